#include "restsync/config/load.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "restsync/config/read_at_most.hpp"
#include "restsync/config/reader.hpp"

namespace restsync {

namespace config_reader {

namespace {

constexpr std::string_view root_keys[] = {
    "client", "resource_defaults", "resources", "destination", "daemon", "log", "metrics"};

// The 1-based line of text, without its newline.
std::string_view line_of(std::string_view text, int line) {
  for (int i = 1; i < line; ++i) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) return {};
    text.remove_prefix(nl + 1);
  }
  return text.substr(0, text.find('\n'));
}

}  // namespace

config loader::load(const std::string& yaml) {
  try {
    return load_tree(yaml);
  } catch (const config_too_large& e) {
    fail(e.mark(), e.path(), e.what());
    throw_problems();
  }
}

config loader::load_tree(const std::string& yaml) {
  config_node root;
  try {
    root = parse_config_tree(
        yaml,
        [this](source_mark m, const std::string& path, const std::string& msg) {
          fail(m, path, msg);
        },
        budget_);
  } catch (const yaml_syntax_error& e) {
    std::string hint;
    // In `{…}` and `[…]` the braces of an unquoted `${…}` end the collection
    // early, and yaml-cpp's message does not say why.
    if (std::string_view(e.what()).find("flow") != std::string_view::npos &&
        line_of(yaml, e.mark().line).find("${") != std::string_view::npos) {
      hint = "; inside `{…}` or `[…]` quote a value that holds a reference: \"${env:NAME}\"";
    }
    fail(e.mark(), "", fmt::format("YAML syntax error: {}{}", e.what(), hint));
    throw_problems();
  }
  if (root.kind == node_kind::null) {
    fail({1, 1}, "",
         "the configuration is empty; expected a map with at least `client: {base_url: …}` and "
         "`resources: […]`");
    throw_problems();
  }
  if (root.kind != node_kind::map) {
    fail(root,
         fmt::format("expected a map with `client`, `resources`, … at the top level, found {}",
                     kind_name(root.kind)));
    throw_problems();
  }

  config cfg;
  cfg.source = display_name_;
  check_keys(root, root_keys);
  if (const auto* n = required(root, "client", "a map with at least `base_url`")) {
    cfg.client = read_client(*n);
  }
  if (const auto* n = optional(root, "destination")) cfg.destination = read_destination(*n);
  if (const auto* n = optional(root, "daemon")) cfg.daemon = read_daemon(*n);
  if (const auto* n = optional(root, "log")) cfg.log = read_log(*n);
  if (const auto* n = optional(root, "metrics")) cfg.metrics = read_metrics(*n);

  const config_node* defaults = optional(root, "resource_defaults");
  if (defaults != nullptr && !expect_map(*defaults, "a map of keys shared by every resource")) {
    defaults = nullptr;
  }
  if (defaults != nullptr && defaults->find("name") != nullptr) {
    const auto& keys = defaults->keys;
    auto it = std::find_if(keys.begin(), keys.end(),
                           [](const config_key& k) { return k.name == "name"; });
    fail(it->mark, "", "`resource_defaults` cannot set `name`: every resource names itself");
  }
  if (const auto* n = required(root, "resources",
                               "a list of resources, each with `name` and `endpoint: {path: …}`")) {
    cfg.resources = read_resources(*n, defaults);
  }

  if (!problems_.empty()) throw_problems();
  cfg.secrets = std::move(secrets_);
  return cfg;
}

}  // namespace config_reader

namespace fs = std::filesystem;

config load_config_from_string(const std::string& yaml, const std::string& display_name,
                               const std::filesystem::path& base_dir) {
  return config_reader::loader(display_name, base_dir).load(yaml);
}

config load_config(const std::filesystem::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    throw config_error(
        {fmt::format("{}: is a directory; expected a YAML configuration file such as "
                     "/etc/restsync/analytics.yaml",
                     file.string())});
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw config_error({fmt::format("{}: cannot read the configuration: {}", file.string(),
                                    std::strerror(errno))});
  }
  const std::size_t limit = config_expansion_limits.bytes;
  const auto text = read_at_most(in, limit);
  if (!text) {
    throw config_error({fmt::format(
        "{}: the file holds more than {} MiB; no real configuration comes near, so it is "
        "refused rather than read into memory",
        file.string(), limit >> 20)});
  }
  fs::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  return load_config_from_string(*text, file.string(), dir);
}

}  // namespace restsync

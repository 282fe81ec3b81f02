#include "restsync/config/load.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <unordered_set>

#include "restsync/config/byte_size.hpp"
#include "restsync/config/conninfo.hpp"
#include "restsync/config/duration.hpp"
#include "restsync/config/read_at_most.hpp"
#include "restsync/config/substitute.hpp"
#include "restsync/config/suggest.hpp"
#include "restsync/config/tree.hpp"
#include "restsync/http/url.hpp"
#include "restsync/incremental/cursor.hpp"

namespace restsync {

namespace {

namespace fs = std::filesystem;
using key_list = std::span<const std::string_view>;

constexpr std::string_view root_keys[] = {
    "client", "resource_defaults", "resources", "destination", "daemon", "log", "metrics"};
constexpr std::string_view client_keys[] = {"base_url",       "auth",          "headers",
                                            "rate_limit",     "max_in_flight", "timeout",
                                            "max_body_bytes", "memory_budget", "tls"};
constexpr std::string_view auth_types[] = {"bearer", "http_basic", "api_key"};
constexpr std::string_view bearer_keys[] = {"type", "token"};
constexpr std::string_view http_basic_keys[] = {"type", "username", "password"};
constexpr std::string_view api_key_keys[] = {"type", "name", "api_key", "location"};
constexpr std::string_view api_key_locations[] = {"header", "query"};
constexpr std::string_view rate_limit_keys[] = {"requests_per_second", "burst"};
constexpr std::string_view timeout_keys[] = {"connect", "read"};
constexpr std::string_view tls_keys[] = {"verify", "ca_file"};
constexpr std::string_view destination_keys[] = {"connection", "schema", "connections"};
constexpr std::string_view resource_keys[] = {
    "name",     "endpoint",        "primary_key", "write_disposition",
    "schedule", "full_scan_every", "hard_delete", "max_age"};
constexpr std::string_view dispositions[] = {"merge", "append", "replace"};
constexpr std::string_view schedule_keys[] = {"interval", "jitter", "failure_backoff"};
constexpr std::string_view daemon_keys[] = {"shutdown_timeout"};
constexpr std::string_view log_keys[] = {"level"};
constexpr std::string_view log_levels[] = {"debug", "info", "warning", "error"};
constexpr std::string_view metrics_keys[] = {"listen"};
constexpr std::string_view endpoint_keys[] = {
    "path", "method", "params", "data_selector", "paginator", "error_handler", "incremental"};
constexpr std::string_view methods[] = {"GET"};
constexpr std::string_view paginator_types[] = {"single_page", "offset",    "page_number",
                                                "cursor",      "json_link", "header_link"};
constexpr std::string_view single_page_keys[] = {"type"};
constexpr std::string_view offset_keys[] = {
    "type", "limit", "offset", "offset_param", "limit_param", "total_path", "maximum_offset"};
constexpr std::string_view page_number_keys[] = {"type",       "base_page",  "page",
                                                 "page_param", "total_path", "maximum_page"};
constexpr std::string_view cursor_keys[] = {"type", "cursor_path", "cursor_param"};
constexpr std::string_view json_link_keys[] = {"type", "next_url_path"};
constexpr std::string_view header_link_keys[] = {"type", "links_next_key"};
constexpr std::string_view error_handler_keys[] = {
    "retry_on_status_codes",  "max_retries",     "backoff_factor",     "max_backoff",
    "max_rate_limit_retries", "max_retry_after", "min_rate_limit_wait"};
constexpr std::string_view incremental_keys[] = {
    "cursor_path", "initial_value",           "end_value",   "lag",
    "row_order",   "on_cursor_value_missing", "start_param", "end_param"};
// dlt's older form: `params: {since: {type: incremental, cursor_path: …}}`.
constexpr std::string_view param_incremental_keys[] = {
    "type", "cursor_path", "initial_value",           "end_value",
    "lag",  "row_order",   "on_cursor_value_missing", "end_param"};
constexpr std::string_view row_orders[] = {"asc", "desc"};
constexpr std::string_view missing_cursor_actions[] = {"raise", "include", "exclude"};

// Header and query parameter names whose values are credentials by nature.
constexpr std::string_view secret_name_fragments[] = {"auth",      "token",     "key",    "secret",
                                                      "password",  "passwd",    "cookie", "session",
                                                      "signature", "credential"};

constexpr int max_int = std::numeric_limits<int>::max();
constexpr std::int64_t max_int64 = std::numeric_limits<std::int64_t>::max();

struct problem {
  source_mark mark;
  std::string text;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool looks_secret(std::string_view name) {
  const std::string l = lower(name);
  return std::any_of(std::begin(secret_name_fragments), std::end(secret_name_fragments),
                     [&](std::string_view f) { return l.find(f) != std::string::npos; });
}

std::string_view kind_name(node_kind k) {
  switch (k) {
    case node_kind::null:
      return "no value";
    case node_kind::scalar:
      return "a single value";
    case node_kind::sequence:
      return "a list";
    case node_kind::map:
      return "a map";
  }
  return "?";
}

std::string list_of(key_list words) { return fmt::format("{}", fmt::join(words, ", ")); }

std::string with_suggestion(std::string_view word, key_list candidates) {
  if (auto match = closest_match(word, candidates))
    return fmt::format("; did you mean `{}`?", *match);
  return {};
}

// HTTP header names are RFC 9110 tokens.
bool is_header_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool has_line_break(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool starts_with_scheme(std::string_view s) {
  const auto sep = s.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  return std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(sep), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' || c == '-' || c == '.';
  });
}

// The path of the map that holds an entry, from the entry's own path.
std::string parent_path(const config_node& value, std::string_view key) {
  const std::string& p = value.path;
  if (p.size() > key.size() && p.ends_with(key) && p[p.size() - key.size() - 1] == '.') {
    return p.substr(0, p.size() - key.size() - 1);
  }
  if (p == key) return {};
  return p;
}

// The 1-based line of text, without its newline.
std::string_view line_of(std::string_view text, int line) {
  for (int i = 1; i < line; ++i) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) return {};
    text.remove_prefix(nl + 1);
  }
  return text.substr(0, text.find('\n'));
}

config_node scalar_node(const config_node& like, std::string path) {
  config_node n = like;
  n.path = std::move(path);
  return n;
}

config_node map_node(source_mark mark, std::string path) {
  config_node n;
  n.kind = node_kind::map;
  n.mark = mark;
  n.path = std::move(path);
  return n;
}

// dlt's shorthand `paginator: offset` is `paginator: {type: offset}`.
void normalize_endpoint(config_node& endpoint) {
  if (endpoint.kind != node_kind::map) return;
  if (config_node* p = endpoint.find("paginator"); p != nullptr && p->kind == node_kind::scalar) {
    config_node m = map_node(p->mark, p->path);
    m.add({"type", p->mark}, scalar_node(*p, p->path + ".type"));
    *p = std::move(m);
  }
}

// dlt's shorthands: a resource that is just a string is both its name and its
// path; an endpoint that is just a string is its path.
config_node normalize_resource(const config_node& resource) {
  if (resource.kind == node_kind::scalar) {
    config_node m = map_node(resource.mark, resource.path);
    m.add({"name", resource.mark}, scalar_node(resource, resource.path + ".name"));
    config_node endpoint = map_node(resource.mark, resource.path + ".endpoint");
    endpoint.add({"path", resource.mark}, scalar_node(resource, resource.path + ".endpoint.path"));
    m.add({"endpoint", resource.mark}, std::move(endpoint));
    return m;
  }
  config_node out = resource;
  if (out.kind != node_kind::map) return out;
  if (config_node* e = out.find("endpoint"); e != nullptr && e->kind == node_kind::scalar) {
    config_node m = map_node(e->mark, e->path);
    m.add({"path", e->mark}, scalar_node(*e, e->path + ".path"));
    *e = std::move(m);
  }
  if (config_node* e = out.find("endpoint")) normalize_endpoint(*e);
  return out;
}

class loader {
 public:
  loader(std::string display_name, fs::path base_dir)
      : display_name_(std::move(display_name)), base_dir_(std::move(base_dir)) {}

  config load(const std::string& yaml);

 private:
  config load_tree(const std::string& yaml);
  void fail(source_mark mark, const std::string& path, const std::string& message);
  void fail(const config_node& n, const std::string& message) { fail(n.mark, n.path, message); }
  [[noreturn]] void throw_problems();

  bool expect_map(const config_node& n, std::string_view what);
  void check_keys(const config_node& map, key_list allowed, std::string_view note = {});
  const config_node* optional(const config_node& map, std::string_view key);
  const config_node* required(const config_node& map, std::string_view key, std::string_view hint);

  std::string shown(const config_node& n);
  std::optional<std::string> string_value(const config_node& n, bool secret = false);
  std::optional<std::string> non_empty_string(const config_node& n, std::string_view hint,
                                              bool secret = false);
  std::optional<std::int64_t> integer_value(const config_node& n, std::int64_t min,
                                            std::int64_t max);
  std::optional<int> int_value(const config_node& n, int min) {
    auto v = integer_value(n, min, max_int);
    return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
  }
  std::optional<double> number_value(const config_node& n, bool allow_zero);
  std::optional<bool> bool_value(const config_node& n);
  std::optional<milliseconds> duration_value(const config_node& n, bool allow_zero);
  std::optional<std::size_t> choice(const config_node& n, key_list allowed);
  std::optional<json_path> json_path_value(const config_node& n);
  std::optional<std::string> param_name(const config_node& n);

  client_config read_client(const config_node& n);
  auth_config read_auth(const config_node& n);
  query_params read_headers(const config_node& n);
  destination_config read_destination(const config_node& n);
  daemon_config read_daemon(const config_node& n);
  log_config read_log(const config_node& n);
  metrics_config read_metrics(const config_node& n);
  std::vector<resource_config> read_resources(const config_node& list, const config_node* defaults);
  std::optional<resource_config> read_resource(const config_node& n);
  void read_endpoint(const config_node& n, endpoint_config& e);
  std::optional<paginator_config> read_paginator(const config_node& n);
  error_handler_config read_error_handler(const config_node& n);
  std::optional<incremental_config> read_incremental(const config_node& n, key_list allowed);

  std::string display_name_;
  fs::path base_dir_;
  std::vector<problem> problems_;
  std::unordered_set<std::string> reported_;  // problems_' texts, by hash
  secret_set secrets_;
  expansion_budget budget_;
};

void loader::fail(source_mark mark, const std::string& path, const std::string& message) {
  std::string text = mark.line > 0
                         ? fmt::format("{}:{}:{}: ", display_name_, mark.line, mark.column)
                         : fmt::format("{}: ", display_name_);
  if (!path.empty()) text += fmt::format("{}: ", path);
  text += message;
  // A mistake inside resource_defaults is met once per resource.
  if (!reported_.insert(text).second) return;
  problems_.push_back({mark, std::move(text)});
}

void loader::throw_problems() {
  std::stable_sort(problems_.begin(), problems_.end(), [](const problem& a, const problem& b) {
    return std::pair(a.mark.line, a.mark.column) < std::pair(b.mark.line, b.mark.column);
  });
  std::vector<std::string> messages;
  messages.reserve(problems_.size());
  for (const auto& p : problems_) messages.push_back(secrets_.mask(p.text));
  throw config_error(std::move(messages));
}

bool loader::expect_map(const config_node& n, std::string_view what) {
  if (n.kind == node_kind::map) return true;
  fail(n, fmt::format("expected {}, found {}", what, kind_name(n.kind)));
  return false;
}

void loader::check_keys(const config_node& map, key_list allowed, std::string_view note) {
  for (std::size_t i = 0; i < map.keys.size(); ++i) {
    const config_key& key = map.keys[i];
    if (std::find(allowed.begin(), allowed.end(), key.name) != allowed.end()) continue;
    const std::string where = parent_path(map.items[i], key.name);
    std::string text = where.empty() ? fmt::format("unknown top-level key `{}`", key.name)
                                     : fmt::format("unknown key `{}` in `{}`", key.name, where);
    if (!note.empty()) text += fmt::format(" {}", note);
    if (auto match = closest_match(key.name, allowed)) {
      text += fmt::format("; did you mean `{}`?", *match);
    } else {
      text += fmt::format("; the keys allowed here are {}", list_of(allowed));
    }
    fail(key.mark, "", text);
  }
}

const config_node* loader::optional(const config_node& map, std::string_view key) {
  const config_node* n = map.find(key);
  if (n == nullptr || n->kind == node_kind::null) return nullptr;
  return n;
}

const config_node* loader::required(const config_node& map, std::string_view key,
                                    std::string_view hint) {
  const config_node* n = map.find(key);
  if (n == nullptr) {
    fail(map, fmt::format("missing required key `{}` ({})", key, hint));
    return nullptr;
  }
  if (n->kind == node_kind::null) {
    fail(*n, fmt::format("no value given; expected {}", hint));
    return nullptr;
  }
  return n;
}

// How an error quotes a value: as written in the file, so that a value that
// came from the environment or a file is named by its reference, never shown.
std::string loader::shown(const config_node& n) {
  if (n.scalar.find("${") != std::string::npos) {
    return fmt::format("the value of `{}`", n.scalar);
  }
  return fmt::format("`{}`", n.scalar);
}

std::optional<std::string> loader::string_value(const config_node& n, bool secret) {
  if (n.kind != node_kind::scalar) {
    fail(n, fmt::format("expected a string, found {}", kind_name(n.kind)));
    return std::nullopt;
  }
  try {
    substitution s = substitute(n.scalar, base_dir_);
    // One reference to a large file, in resource_defaults or behind an
    // alias, is substituted at every use.
    if (s.resolved_reference) {
      budget_.charge(n.mark, n.path, 0, s.value.size(),
                     "once its references (`${…}`) are substituted");
    }
    for (auto& part : s.secret_parts) secrets_.add(std::move(part));
    if (secret) secrets_.add(s.value);
    return std::move(s.value);
  } catch (const substitution_error& e) {
    fail(n, e.what());
    return std::nullopt;
  }
}

std::optional<std::string> loader::non_empty_string(const config_node& n, std::string_view hint,
                                                    bool secret) {
  auto s = string_value(n, secret);
  if (s && s->empty()) {
    fail(n, n.scalar.empty() ? fmt::format("is empty; expected {}", hint)
                             : fmt::format("{} is empty; expected {}", shown(n), hint));
    return std::nullopt;
  }
  return s;
}

std::optional<std::int64_t> loader::integer_value(const config_node& n, std::int64_t min,
                                                  std::int64_t max) {
  const std::string expected = max == max_int64 || max == max_int
                                   ? fmt::format("a whole number of at least {}", min)
                                   : fmt::format("a whole number from {} to {}", min, max);
  if (n.kind != node_kind::scalar) {
    fail(n, fmt::format("expected {}, found {}", expected, kind_name(n.kind)));
    return std::nullopt;
  }
  auto s = string_value(n);
  if (!s) return std::nullopt;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc{} || end != s->data() + s->size() || s->empty() || v < min || v > max) {
    fail(n, fmt::format("expected {}, found {}", expected, shown(n)));
    return std::nullopt;
  }
  return v;
}

std::optional<double> loader::number_value(const config_node& n, bool allow_zero) {
  const std::string_view expected = allow_zero ? "a number of at least 0" : "a number above 0";
  if (n.kind != node_kind::scalar) {
    fail(n, fmt::format("expected {}, found {}", expected, kind_name(n.kind)));
    return std::nullopt;
  }
  auto s = string_value(n);
  if (!s) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc{} || end != s->data() + s->size() || s->empty() || !std::isfinite(v) ||
      v < 0 || (v == 0 && !allow_zero)) {
    fail(n, fmt::format("expected {}, found {}", expected, shown(n)));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> loader::bool_value(const config_node& n) {
  if (n.kind != node_kind::scalar) {
    fail(n, fmt::format("expected true or false, found {}", kind_name(n.kind)));
    return std::nullopt;
  }
  auto s = string_value(n);
  if (!s) return std::nullopt;
  // The YAML 1.1 spellings yaml-cpp itself accepts.
  const std::string l = lower(*s);
  if (l == "true" || l == "yes" || l == "on" || l == "y") return true;
  if (l == "false" || l == "no" || l == "off" || l == "n") return false;
  fail(n, fmt::format("expected true or false, found {}", shown(n)));
  return std::nullopt;
}

std::optional<milliseconds> loader::duration_value(const config_node& n, bool allow_zero) {
  constexpr std::string_view expected =
      "a duration such as `500ms`, `30s`, `15m`, `1h`, `1h30m` or a bare number of seconds";
  if (n.kind != node_kind::scalar) {
    fail(n, fmt::format("expected {}, found {}", expected, kind_name(n.kind)));
    return std::nullopt;
  }
  auto s = string_value(n);
  if (!s) return std::nullopt;
  auto d = parse_duration(*s);
  if (!d) {
    fail(n, fmt::format("expected {}, found {}", expected, shown(n)));
    return std::nullopt;
  }
  if (d->count() == 0 && !allow_zero) {
    fail(n, fmt::format("must be longer than zero, found {}", shown(n)));
    return std::nullopt;
  }
  return d;
}

std::optional<std::size_t> loader::choice(const config_node& n, key_list allowed) {
  if (n.kind != node_kind::scalar) {
    fail(n, fmt::format("expected one of {}, found {}", list_of(allowed), kind_name(n.kind)));
    return std::nullopt;
  }
  auto s = string_value(n);
  if (!s) return std::nullopt;
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    if (*s == allowed[i]) return i;
  }
  fail(n, fmt::format("{} is not one of {}{}", shown(n), list_of(allowed),
                      with_suggestion(*s, allowed)));
  return std::nullopt;
}

std::optional<json_path> loader::json_path_value(const config_node& n) {
  auto s = string_value(n);
  if (!s) return std::nullopt;
  std::string_view text = *s;
  json_path out;
  if (text == "$") return out;
  if (text.starts_with("$.")) text.remove_prefix(2);
  bool ok = !text.empty();
  while (ok && !text.empty()) {
    const std::string_view segment = text.substr(0, text.find('.'));
    ok = !segment.empty() && segment.find_first_of("[]*$ ") == std::string_view::npos;
    out.emplace_back(segment);
    text.remove_prefix(segment.size());
    if (!text.empty()) {
      text.remove_prefix(1);
      ok = ok && !text.empty();
    }
  }
  if (!ok) {
    fail(n, fmt::format("{} is not a dotted path; write keys separated by dots, such as "
                        "`_data.partialCollection`, or `$` for the whole body",
                        shown(n)));
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> loader::param_name(const config_node& n) {
  return non_empty_string(n, "a query parameter name");
}

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

client_config loader::read_client(const config_node& n) {
  client_config c;
  if (!expect_map(n, "a map with at least `base_url`")) return c;
  check_keys(n, client_keys);

  if (const auto* v =
          required(n, "base_url", "the API's http(s) URL, such as `https://api.example.com`")) {
    if (auto s = non_empty_string(*v, "the API's http(s) URL, such as `https://api.example.com`")) {
      std::string reason;
      try {
        parse_url(*s);
        if (s->find_first_of("?#") != std::string::npos) {
          reason =
              "must not carry a query or fragment (put query parameters under an "
              "endpoint's `params`)";
        }
      } catch (const std::invalid_argument& e) {
        // parse_url may quote parts of the URL, which a secret must not show.
        reason = secrets_.contains_secret(*s) ? "is not an absolute http(s) URL" : e.what();
      }
      if (reason.empty()) {
        c.base_url = *s;
      } else {
        fail(*v, fmt::format("{}: {}; expected an absolute http(s) URL such as "
                             "`https://api.example.com`",
                             shown(*v), reason));
      }
    }
  }
  if (const auto* v = optional(n, "auth")) c.auth = read_auth(*v);
  if (const auto* v = optional(n, "headers")) c.headers = read_headers(*v);
  if (const auto* v = optional(n, "rate_limit")) {
    if (expect_map(*v, "a map with `requests_per_second` and `burst`")) {
      check_keys(*v, rate_limit_keys);
      if (const auto* r = optional(*v, "requests_per_second")) {
        if (auto x = number_value(*r, true)) c.rate_limit.requests_per_second = *x;
      }
      if (const auto* b = optional(*v, "burst")) {
        if (auto x = int_value(*b, 1)) c.rate_limit.burst = *x;
      }
    }
  }
  if (const auto* v = optional(n, "max_in_flight")) {
    if (auto x = int_value(*v, 1)) c.max_in_flight = *x;
  }
  if (const auto* v = optional(n, "timeout")) {
    if (v->kind == node_kind::scalar) {
      if (auto d = duration_value(*v, false)) c.timeout.connect = c.timeout.read = *d;
    } else if (expect_map(*v, "a duration, or a map with `connect` and `read` durations")) {
      check_keys(*v, timeout_keys);
      if (const auto* t = optional(*v, "connect")) {
        if (auto d = duration_value(*t, false)) c.timeout.connect = *d;
      }
      if (const auto* t = optional(*v, "read")) {
        if (auto d = duration_value(*t, false)) c.timeout.read = *d;
      }
    }
  }
  for (auto [key, target] : {std::pair{"max_body_bytes", &c.max_body_bytes},
                             std::pair{"memory_budget", &c.memory_budget}}) {
    const auto* v = optional(n, key);
    if (v == nullptr) continue;
    if (auto s = string_value(*v)) {
      auto bytes = parse_byte_size(*s);
      if (bytes && *bytes > 0) {
        *target = *bytes;
      } else {
        fail(*v, fmt::format("expected a size above 0 such as `67108864` or `64MiB`, found {}",
                             shown(*v)));
      }
    }
  }
  if (const auto* v = optional(n, "tls")) {
    if (expect_map(*v, "a map with `verify` and `ca_file`")) {
      check_keys(*v, tls_keys);
      if (const auto* t = optional(*v, "verify")) {
        if (auto b = bool_value(*t)) c.tls.verify = *b;
      }
      if (const auto* t = optional(*v, "ca_file")) {
        if (auto s = non_empty_string(*t, "the path of a PEM file of trusted CA certificates")) {
          fs::path p(*s);
          if (p.is_relative() && !base_dir_.empty()) p = base_dir_ / p;
          std::ifstream probe(p);
          if (!probe) {
            fail(*t, fmt::format("cannot read {} ({}): {}; expected a PEM file of trusted CA "
                                 "certificates",
                                 shown(*t), p.string(), std::strerror(errno)));
          } else {
            c.tls.ca_file = p.string();
          }
        }
      }
    }
  }
  return c;
}

auth_config loader::read_auth(const config_node& n) {
  auth_config a;
  if (!expect_map(n, "a map with `type` (bearer, http_basic or api_key) and its keys")) return a;
  // dlt assumes a bearer token when the type is left out.
  std::size_t type = 0;
  if (const auto* t = optional(n, "type")) {
    auto c = choice(*t, auth_types);
    if (!c) return a;
    type = *c;
  }
  switch (type) {
    case 0:
      a.type = auth_type::bearer;
      check_keys(n, bearer_keys, "(auth type bearer)");
      if (const auto* v =
              required(n, "token", "the bearer token, e.g. `${credential:api_token}`")) {
        if (auto s = non_empty_string(*v, "the bearer token", true)) a.token = *s;
      }
      break;
    case 1:
      a.type = auth_type::http_basic;
      check_keys(n, http_basic_keys, "(auth type http_basic)");
      if (const auto* v = required(n, "username", "the user name")) {
        if (auto s = non_empty_string(*v, "the user name")) a.username = *s;
      }
      if (const auto* v =
              required(n, "password", "the password, e.g. `${credential:api_password}`")) {
        if (auto s = string_value(*v, true)) a.password = *s;
      }
      break;
    case 2:
      a.type = auth_type::api_key;
      check_keys(n, api_key_keys, "(auth type api_key)");
      if (const auto* v = required(n, "api_key", "the key, e.g. `${env:API_KEY}`")) {
        if (auto s = non_empty_string(*v, "the API key", true)) {
          if (has_line_break(*s)) {
            fail(*v, "the API key contains a line break; check the file or variable it comes from");
          } else {
            a.api_key = *s;
          }
        }
      }
      if (const auto* v = optional(n, "location")) {
        if (auto c = choice(*v, api_key_locations)) {
          a.location = *c == 0 ? api_key_location::header : api_key_location::query;
        }
      }
      if (const auto* v = optional(n, "name")) {
        if (auto s = non_empty_string(*v, "the header or query parameter that carries the key")) {
          if (a.location == api_key_location::header && !is_header_name(*s)) {
            fail(*v, fmt::format("{} is not a valid HTTP header name (letters, digits and "
                                 "!#$%&'*+-.^_`|~, no spaces or colons)",
                                 shown(*v)));
          } else {
            a.name = *s;
          }
        }
      }
      break;
  }
  return a;
}

query_params loader::read_headers(const config_node& n) {
  query_params out;
  if (!expect_map(n, "a map of header names to values")) return out;
  for (std::size_t i = 0; i < n.keys.size(); ++i) {
    const config_key& key = n.keys[i];
    const config_node& value = n.items[i];
    if (!is_header_name(key.name)) {
      fail(key.mark, n.path,
           fmt::format("`{}` is not a valid HTTP header name (letters, digits and "
                       "!#$%&'*+-.^_`|~, no spaces or colons)",
                       key.name));
      continue;
    }
    if (value.kind == node_kind::null) {
      fail(value, "no value given; write `\"\"` for an empty header");
      continue;
    }
    auto s = string_value(value, looks_secret(key.name));
    if (!s) continue;
    if (has_line_break(*s)) {
      fail(value,
           "a header value must not contain a line break; check the file or variable "
           "it comes from");
      continue;
    }
    out.emplace_back(key.name, *s);
  }
  return out;
}

destination_config loader::read_destination(const config_node& n) {
  destination_config d;
  if (!expect_map(n, "a map with `connection`, `schema` and `connections`")) return d;
  check_keys(n, destination_keys);
  if (const auto* v = optional(n, "connection")) {
    if (auto s = string_value(*v)) {
      for (auto& p : conninfo_passwords(*s)) secrets_.add(std::move(p));
      d.connection = *s;
    }
  }
  if (const auto* v = optional(n, "schema")) {
    if (auto s = non_empty_string(*v, "a PostgreSQL schema name such as `analytics`")) {
      if (s->size() > 63) {
        fail(*v, "a PostgreSQL schema name is at most 63 bytes long");
      } else if (s->find('\0') != std::string::npos) {
        fail(*v, "a PostgreSQL schema name cannot contain a NUL character");
      } else {
        d.schema = *s;
      }
    }
  }
  if (const auto* v = optional(n, "connections")) {
    if (auto x = integer_value(*v, 1, 16)) d.connections = static_cast<int>(*x);
  }
  return d;
}

daemon_config loader::read_daemon(const config_node& n) {
  daemon_config d;
  if (!expect_map(n, "a map with `shutdown_timeout`")) return d;
  check_keys(n, daemon_keys);
  if (const auto* v = optional(n, "shutdown_timeout")) {
    if (auto t = duration_value(*v, false)) d.shutdown_timeout = *t;
  }
  return d;
}

log_config loader::read_log(const config_node& n) {
  log_config l;
  if (!expect_map(n, "a map with `level`")) return l;
  check_keys(n, log_keys);
  if (const auto* v = optional(n, "level")) {
    if (auto c = choice(*v, log_levels)) l.level = static_cast<log_level>(*c);
  }
  return l;
}

metrics_config loader::read_metrics(const config_node& n) {
  metrics_config m;
  if (!expect_map(n, "a map with `listen`")) return m;
  check_keys(n, metrics_keys);
  if (const auto* v = optional(n, "listen")) {
    if (auto s = string_value(*v)) {
      if (auto a = parse_listen_address(*s)) {
        m.listen = *a;
      } else {
        fail(*v, fmt::format("{} is not a listen address; expected a port such as `9187` "
                             "(loopback only), or `127.0.0.1:9187`, `[::1]:9187`, "
                             "`0.0.0.0:9187` to listen beyond this host",
                             shown(*v)));
      }
    }
  }
  return m;
}

std::vector<resource_config> loader::read_resources(const config_node& list,
                                                    const config_node* defaults) {
  std::vector<resource_config> out;
  if (list.kind != node_kind::sequence) {
    fail(list,
         fmt::format("expected a list of resources (`- name: …`), found {}", kind_name(list.kind)));
    return out;
  }
  if (list.items.empty()) {
    fail(list, "the list is empty; list at least one resource to sync");
    return out;
  }
  std::optional<config_node> base;
  if (defaults != nullptr) {
    base = *defaults;
    if (config_node* e = base->find("endpoint")) normalize_endpoint(*e);
  }
  std::map<std::string, source_mark> seen;
  for (const auto& item : list.items) {
    config_node resource = normalize_resource(item);
    if (base && resource.kind == node_kind::map) {
      resource = merge_nodes(*base, resource);
      budget_.charge_tree(resource, "once resource_defaults are merged into each resource");
    }
    auto r = read_resource(resource);
    if (!r) continue;
    const config_node* name = resource.find("name");
    auto [it, inserted] = seen.emplace(r->name, name->mark);
    if (!inserted) {
      fail(*name, fmt::format("duplicate resource name `{}` (first used at line {}); resource "
                              "names must be unique because each names a table",
                              r->name, it->second.line));
      continue;
    }
    out.push_back(std::move(*r));
  }
  return out;
}

std::optional<resource_config> loader::read_resource(const config_node& n) {
  if (!expect_map(n, "a resource: a map with `name` and `endpoint`, or a bare path")) {
    return std::nullopt;
  }
  resource_config r;
  bool ok = true;
  check_keys(n, resource_keys);
  if (const auto* v = required(n, "name", "the resource's name, which also names its table")) {
    if (auto s = non_empty_string(*v, "the resource's name")) {
      if (std::any_of(s->begin(), s->end(),
                      [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; })) {
        fail(*v, fmt::format("{} contains spaces or control characters; use a name such as "
                             "`accounts_feeds`",
                             shown(*v)));
        ok = false;
      } else {
        r.name = *s;
      }
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }

  bool primary_key_failed = false;
  if (const auto* v = optional(n, "primary_key")) {
    if (v->kind == node_kind::scalar) {
      if (auto s = non_empty_string(*v, "a field name or a list of field names")) {
        r.primary_key.push_back(*s);
      } else {
        primary_key_failed = true;
      }
    } else if (v->kind == node_kind::sequence) {
      for (const auto& item : v->items) {
        if (auto s = non_empty_string(item, "a field name")) {
          r.primary_key.push_back(*s);
        } else {
          primary_key_failed = true;
        }
      }
    } else {
      fail(*v, fmt::format("expected a field name or a list of field names, found {}",
                           kind_name(v->kind)));
      primary_key_failed = true;
    }
  }
  bool disposition_failed = false;
  const config_node* disposition_node = optional(n, "write_disposition");
  if (disposition_node != nullptr) {
    if (auto c = choice(*disposition_node, dispositions)) {
      r.write_disposition = static_cast<disposition>(*c);
    } else {
      disposition_failed = true;
    }
  }
  if (const auto* v = required(n, "endpoint", "a map with at least `path`")) {
    if (expect_map(*v, "a map with at least `path`, or just the path")) {
      read_endpoint(*v, r.endpoint);
    }
  }
  if (const auto* v = optional(n, "schedule")) {
    if (expect_map(*v, "a map with `interval`, `jitter` and `failure_backoff`")) {
      check_keys(*v, schedule_keys);
      if (const auto* i = optional(*v, "interval")) {
        if (auto d = duration_value(*i, false)) r.schedule.interval = *d;
      }
      if (const auto* i = optional(*v, "jitter")) {
        if (auto d = duration_value(*i, true)) r.schedule.jitter = *d;
      }
      if (const auto* i = optional(*v, "failure_backoff")) {
        if (auto d = duration_value(*i, false)) r.schedule.failure_backoff = *d;
      }
    }
  }
  if (const auto* v = optional(n, "full_scan_every")) {
    if (auto d = duration_value(*v, false)) r.full_scan_every = *d;
  }
  if (const auto* v = optional(n, "hard_delete")) {
    if (auto b = bool_value(*v)) r.hard_delete = *b;
  }
  if (const auto* v = optional(n, "max_age")) {
    if (auto d = duration_value(*v, false)) r.max_age = *d;
  }

  if (r.write_disposition == disposition::merge && r.primary_key.empty() && !primary_key_failed &&
      !disposition_failed) {
    const config_node& at = disposition_node != nullptr ? *disposition_node : n;
    fail(at,
         "write_disposition `merge` needs a primary_key to match records on; set "
         "`primary_key` (here or in resource_defaults), or use write_disposition `append` "
         "or `replace`");
  }
  if (!ok) return std::nullopt;
  return r;
}

void loader::read_endpoint(const config_node& n, endpoint_config& e) {
  check_keys(n, endpoint_keys);
  if (const auto* v =
          required(n, "path", "the endpoint's path below base_url, such as `/v1/users`")) {
    if (auto s = non_empty_string(*v, "the endpoint's path, such as `/v1/users`")) {
      if (s->find_first_of("?#") != std::string::npos) {
        fail(*v, fmt::format("{} carries a query; put query parameters under `params`", shown(*v)));
      } else if (s->find('{') != std::string::npos) {
        fail(*v, fmt::format("{} has a `{{…}}` placeholder; dlt's parent-resource placeholders "
                             "are not supported, write the literal path",
                             shown(*v)));
      } else if (starts_with_scheme(*s)) {
        try {
          parse_url(*s);
          e.path = *s;
        } catch (const std::invalid_argument& ex) {
          fail(*v, fmt::format("{}: {}; expected a path such as `/v1/users` or an absolute "
                               "http(s) URL",
                               shown(*v), ex.what()));
        }
      } else {
        e.path = *s;
      }
    }
  }
  if (const auto* v = optional(n, "method")) choice(*v, methods);

  const config_node* param_incremental = nullptr;
  std::string param_incremental_name;
  if (const auto* v = optional(n, "params")) {
    if (expect_map(*v, "a map of query parameter names to values")) {
      for (std::size_t i = 0; i < v->keys.size(); ++i) {
        const config_key& key = v->keys[i];
        const config_node& value = v->items[i];
        if (value.kind == node_kind::map) {
          const config_node* type = value.find("type");
          if (type != nullptr && type->kind == node_kind::scalar && type->scalar == "incremental") {
            param_incremental = &value;
            param_incremental_name = key.name;
            continue;
          }
          fail(value,
               "expected a string, number or boolean; for incremental loading use "
               "`endpoint.incremental` (or dlt's `{type: incremental, cursor_path: …}`)");
          continue;
        }
        if (value.kind != node_kind::scalar) {
          fail(value, value.kind == node_kind::null
                          ? std::string("no value given; write `\"\"` for an empty parameter")
                          : fmt::format("expected a string, number or boolean, found {}",
                                        kind_name(value.kind)));
          continue;
        }
        if (auto s = string_value(value, looks_secret(key.name)))
          e.params.emplace_back(key.name, *s);
      }
    }
  }
  if (const auto* v = optional(n, "data_selector")) {
    if (auto p = json_path_value(*v)) e.data_selector = *p;
  }
  if (const auto* v = required(n, "paginator",
                               "how the API pages; restsync does not guess: `single_page` for an "
                               "endpoint that returns everything at once, else one of offset, "
                               "page_number, cursor, json_link, header_link")) {
    if (auto p = read_paginator(*v)) e.paginator = *p;
  }
  if (const auto* v = optional(n, "error_handler")) e.error_handler = read_error_handler(*v);

  const config_node* incremental = optional(n, "incremental");
  if (incremental != nullptr && param_incremental != nullptr) {
    fail(*param_incremental,
         "incremental loading is already configured under "
         "`endpoint.incremental`; keep only one of the two");
  } else if (incremental != nullptr) {
    e.incremental = read_incremental(*incremental, incremental_keys);
  } else if (param_incremental != nullptr) {
    e.incremental = read_incremental(*param_incremental, param_incremental_keys);
    if (e.incremental) e.incremental->start_param = param_incremental_name;
  }
}

std::optional<paginator_config> loader::read_paginator(const config_node& n) {
  if (!expect_map(n, fmt::format("a paginator: one of {}, or a map with `type`",
                                 list_of(paginator_types)))) {
    return std::nullopt;
  }
  const auto* t = required(n, "type", fmt::format("one of {}", list_of(paginator_types)));
  if (t == nullptr) return std::nullopt;
  auto type = choice(*t, paginator_types);
  if (!type) return std::nullopt;
  const std::string note = fmt::format("(paginator type {})", paginator_types[*type]);

  auto name_of = [this](const config_node& map, std::string_view key, std::string& into) {
    if (const auto* v = optional(map, key)) {
      if (auto s = param_name(*v)) into = *s;
    }
  };
  auto path_of = [this](const config_node& map, std::string_view key, auto& into) {
    if (const auto* v = optional(map, key)) {
      if (auto p = json_path_value(*v)) {
        if (p->empty()) {
          fail(*v, "must name a field of the body, not the whole body `$`");
        } else {
          into = *p;
        }
      }
    }
  };

  switch (*type) {
    case 0:
      check_keys(n, single_page_keys, note);
      return single_page_paginator{};
    case 1: {
      check_keys(n, offset_keys, note);
      offset_paginator p;
      if (const auto* v = optional(n, "limit")) {
        if (auto x = integer_value(*v, 1, max_int64)) p.limit = *x;
      }
      if (const auto* v = optional(n, "offset")) {
        if (auto x = integer_value(*v, 0, max_int64)) p.offset = *x;
      }
      name_of(n, "offset_param", p.offset_param);
      name_of(n, "limit_param", p.limit_param);
      path_of(n, "total_path", p.total_path);
      if (const auto* v = optional(n, "maximum_offset")) {
        if (auto x = integer_value(*v, 1, max_int64)) p.maximum_offset = *x;
      }
      return p;
    }
    case 2: {
      check_keys(n, page_number_keys, note);
      page_number_paginator p;
      if (const auto* v = optional(n, "base_page")) {
        if (auto x = integer_value(*v, 0, max_int64)) p.base_page = *x;
      }
      p.page = p.base_page;
      if (const auto* v = optional(n, "page")) {
        if (auto x = integer_value(*v, p.base_page, max_int64)) p.page = *x;
      }
      name_of(n, "page_param", p.page_param);
      path_of(n, "total_path", p.total_path);
      if (const auto* v = optional(n, "maximum_page")) {
        if (auto x = integer_value(*v, std::max<std::int64_t>(p.base_page, 1), max_int64)) {
          p.maximum_page = *x;
        }
      }
      return p;
    }
    case 3: {
      check_keys(n, cursor_keys, note);
      cursor_paginator p;
      path_of(n, "cursor_path", p.cursor_path);
      name_of(n, "cursor_param", p.cursor_param);
      return p;
    }
    case 4: {
      check_keys(n, json_link_keys, note);
      json_link_paginator p;
      path_of(n, "next_url_path", p.next_url_path);
      return p;
    }
    default: {
      check_keys(n, header_link_keys, note);
      header_link_paginator p;
      if (const auto* v = optional(n, "links_next_key")) {
        if (auto s = non_empty_string(*v, "the Link relation of the next page, such as `next`")) {
          p.links_next_key = *s;
        }
      }
      return p;
    }
  }
}

error_handler_config loader::read_error_handler(const config_node& n) {
  error_handler_config h;
  if (!expect_map(n, "a map with `retry_on_status_codes`, `max_retries`, `backoff_factor`, …")) {
    return h;
  }
  check_keys(n, error_handler_keys);
  if (const auto* v = optional(n, "retry_on_status_codes")) {
    if (v->kind != node_kind::sequence) {
      fail(*v, fmt::format("expected a list of HTTP statuses such as `[429, 503]`, found {}",
                           kind_name(v->kind)));
    } else {
      h.retry_on_status_codes.clear();
      for (const auto& item : v->items) {
        if (auto code = integer_value(item, 400, 599)) {
          const int c = static_cast<int>(*code);
          auto& codes = h.retry_on_status_codes;
          if (std::find(codes.begin(), codes.end(), c) == codes.end()) codes.push_back(c);
        }
      }
    }
  }
  if (const auto* v = optional(n, "max_retries")) {
    if (auto x = int_value(*v, 0)) h.max_retries = *x;
  }
  if (const auto* v = optional(n, "backoff_factor")) {
    if (auto x = number_value(*v, true)) h.backoff_factor = *x;
  }
  if (const auto* v = optional(n, "max_backoff")) {
    if (auto d = duration_value(*v, false)) h.max_backoff = *d;
  }
  if (const auto* v = optional(n, "max_rate_limit_retries")) {
    if (auto x = int_value(*v, 0)) h.max_rate_limit_retries = *x;
  }
  if (const auto* v = optional(n, "max_retry_after")) {
    if (auto d = duration_value(*v, false)) h.max_retry_after = *d;
  }
  if (const auto* v = optional(n, "min_rate_limit_wait")) {
    if (auto d = duration_value(*v, true)) h.min_rate_limit_wait = *d;
  }
  return h;
}

std::optional<incremental_config> loader::read_incremental(const config_node& n, key_list allowed) {
  if (!expect_map(n, "a map with at least `cursor_path`")) return std::nullopt;
  check_keys(n, allowed);
  incremental_config inc;
  bool ok = true;
  if (const auto* v =
          required(n, "cursor_path", "the record field that orders updates, such as `updatedAt`")) {
    auto p = json_path_value(*v);
    if (p && p->empty()) {
      fail(*v, "must name a field of the record, not the whole record `$`");
      ok = false;
    } else if (p) {
      inc.cursor_path = *p;
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  // Kept as written: the engine reads them again with parse_cursor_config.
  auto cursor_of = [this](const config_node* v,
                          std::optional<std::string>& into) -> std::optional<cursor_value> {
    if (v == nullptr) return std::nullopt;
    auto s = string_value(*v);
    if (!s) return std::nullopt;
    into = *s;
    auto c = parse_cursor_config(*s);
    if (!c) {
      fail(*v, fmt::format("expected a timestamp: epoch seconds, epoch milliseconds or an "
                           "ISO-8601 date-time such as 2024-01-01T00:00:00Z, found {}",
                           shown(*v)));
    }
    return c;
  };
  const config_node* initial_node = optional(n, "initial_value");
  const config_node* end_node = optional(n, "end_value");
  const auto initial = cursor_of(initial_node, inc.initial_value);
  const auto end = cursor_of(end_node, inc.end_value);
  if (initial && end && *end <= *initial) {
    fail(*end_node, fmt::format("{} is not later than initial_value {}; a back-fill runs from "
                                "initial_value up to end_value",
                                shown(*end_node), shown(*initial_node)));
  }
  if (const auto* v = optional(n, "lag")) {
    if (auto d = duration_value(*v, true)) inc.lag = *d;
  }
  if (const auto* v = optional(n, "row_order")) {
    if (auto c = choice(*v, row_orders)) inc.order = *c == 0 ? row_order::asc : row_order::desc;
  }
  if (const auto* v = optional(n, "on_cursor_value_missing")) {
    if (auto c = choice(*v, missing_cursor_actions)) {
      inc.on_cursor_value_missing = static_cast<missing_cursor_action>(*c);
    }
  }
  for (std::string_view key : {std::string_view("start_param"), std::string_view("end_param")}) {
    if (const auto* v = optional(n, key)) {
      if (auto s = param_name(*v)) (key == "start_param" ? inc.start_param : inc.end_param) = *s;
    }
  }
  if (!ok) return std::nullopt;
  return inc;
}

}  // namespace

config load_config_from_string(const std::string& yaml, const std::string& display_name,
                               const std::filesystem::path& base_dir) {
  return loader(display_name, base_dir).load(yaml);
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

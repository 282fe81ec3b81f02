#include "restsync/config/substitute.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>

#include "restsync/config/read_at_most.hpp"
#include "restsync/config/tree.hpp"

namespace restsync {

namespace {

bool valid_env_name(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

void trim_trailing_newlines(std::string& s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
}

std::string read_whole_file(const std::filesystem::path& path, std::string_view reference) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw substitution_error(
        fmt::format("cannot read `{}` ({}): {}", reference, path.string(), std::strerror(errno)));
  }
  const std::size_t limit = config_expansion_limits.bytes;
  auto content = read_at_most(in, limit);
  if (!content) {
    throw substitution_error(fmt::format(
        "`{}` holds more than {} MiB ({}); a configuration value is refused beyond that", reference,
        limit >> 20, path.string()));
  }
  if (in.bad()) {
    throw substitution_error(fmt::format("cannot read `{}` ({})", reference, path.string()));
  }
  std::string s = std::move(*content);
  trim_trailing_newlines(s);
  return s;
}

std::string resolve_env(std::string_view body, std::string_view reference) {
  std::string_view name = body;
  std::optional<std::string_view> fallback;
  if (auto sep = body.find(":-"); sep != std::string_view::npos) {
    name = body.substr(0, sep);
    fallback = body.substr(sep + 2);
  }
  if (!valid_env_name(name)) {
    throw substitution_error(fmt::format(
        "`{}`: `{}` is not an environment variable name (letters, digits and _, not starting "
        "with a digit)",
        reference, name));
  }
  const char* value = std::getenv(std::string(name).c_str());
  // Like the shell's ${NAME:-default}: an empty variable also takes the default.
  if (fallback && (value == nullptr || *value == '\0')) return std::string(*fallback);
  if (value == nullptr) {
    throw substitution_error(fmt::format(
        "environment variable `{}` is not set (referenced as `{}`); set it in the daemon's "
        "environment (systemd: Environment= or EnvironmentFile=), or write "
        "`${{env:{}:-default}}` to fall back to a default",
        name, reference, name));
  }
  return value;
}

std::string resolve_file(std::string_view body, std::string_view reference,
                         const std::filesystem::path& base_dir) {
  if (body.empty()) {
    throw substitution_error(
        fmt::format("`{}`: no path; write `${{file:/path/to/file}}`", reference));
  }
  std::filesystem::path path(body);
  if (path.is_relative() && !base_dir.empty()) path = base_dir / path;
  return read_whole_file(path, reference);
}

std::string resolve_credential(std::string_view name, std::string_view reference) {
  if (name.empty() || name.find('/') != std::string_view::npos || name == "." || name == "..") {
    throw substitution_error(
        fmt::format("`{}`: `{}` is not a credential name (a file name without `/`, as given to "
                    "systemd's LoadCredential=)",
                    reference, name));
  }
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (dir == nullptr || *dir == '\0') {
    throw substitution_error(
        fmt::format("`{}`: $CREDENTIALS_DIRECTORY is not set; systemd sets it for a service with "
                    "LoadCredential={}:/path/to/secret (or use `${{file:/path}}` outside systemd)",
                    reference, name));
  }
  return read_whole_file(std::filesystem::path(dir) / std::string(name), reference);
}

}  // namespace

substitution substitute(std::string_view text, const std::filesystem::path& base_dir) {
  substitution out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out.value += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out.value.push_back(text[i]);
      ++i;
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      throw substitution_error(fmt::format(
          "unterminated `${{` at character {}; close it with `}}`, or write `$${{` for a "
          "literal `${{`",
          i + 1));
    }
    const std::string_view reference = text.substr(i, close - i + 1);
    const std::string_view inner = text.substr(i + 2, close - i - 2);
    const std::size_t colon = inner.find(':');
    const std::string_view scheme = colon == std::string_view::npos ? "" : inner.substr(0, colon);
    const std::string_view body = colon == std::string_view::npos ? inner : inner.substr(colon + 1);
    if (scheme == "env") {
      out.value += resolve_env(body, reference);
    } else if (scheme == "file") {
      std::string content = resolve_file(body, reference, base_dir);
      out.value += content;
      out.secret_parts.push_back(std::move(content));
    } else if (scheme == "credential") {
      std::string content = resolve_credential(body, reference);
      out.value += content;
      out.secret_parts.push_back(std::move(content));
    } else if (colon == std::string_view::npos) {
      throw substitution_error(
          fmt::format("`{}` names no source; write `${{env:{}}}`, `${{file:PATH}}` or "
                      "`${{credential:NAME}}` (or `$${{` for a literal `${{`)",
                      reference, inner));
    } else {
      throw substitution_error(fmt::format(
          "`{}`: unknown source `{}`; use env, file or credential (or `$${{` for a literal "
          "`${{`)",
          reference, scheme));
    }
    out.resolved_reference = true;
    i = close + 1;
  }
  return out;
}

}  // namespace restsync

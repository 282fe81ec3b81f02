#include "restsync/config/reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "restsync/config/duration.hpp"
#include "restsync/config/substitute.hpp"
#include "restsync/config/suggest.hpp"

namespace restsync::config_reader {

namespace {

// Header and query parameter names whose values are credentials by nature.
constexpr std::string_view secret_name_fragments[] = {"auth",      "token",     "key",    "secret",
                                                      "password",  "passwd",    "cookie", "session",
                                                      "signature", "credential"};

// The path of the map that holds an entry, from the entry's own path.
std::string parent_path(const config_node& value, std::string_view key) {
  const std::string& p = value.path;
  if (p.size() > key.size() && p.ends_with(key) && p[p.size() - key.size() - 1] == '.') {
    return p.substr(0, p.size() - key.size() - 1);
  }
  if (p == key) return {};
  return p;
}

}  // namespace

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

std::optional<std::size_t> loader::choice_index(const config_node& n, key_list allowed) {
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

}  // namespace restsync::config_reader

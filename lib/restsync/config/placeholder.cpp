#include "restsync/config/placeholder.hpp"

#include <fmt/format.h>

namespace restsync {

namespace {

constexpr std::string_view known[] = {"incremental.start_value", "incremental.end_value",
                                      "incremental.initial_value"};

}  // namespace

std::span<const std::string_view> body_placeholders() { return known; }

bool is_json_number(std::string_view t) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t from = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > from;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

std::variant<std::vector<template_piece>, std::string> parse_template(std::string_view text) {
  std::vector<template_piece> out;
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal += '}';
        ++i;
        continue;
      }
      return fmt::format("a `}}` at character {} closes nothing; write `}}}}` for a literal brace",
                         i + 1);
    }
    if (c != '{') {
      literal += c;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      ++i;
      continue;
    }
    const auto close = text.find('}', i + 1);
    if (close == std::string_view::npos)
      return fmt::format("the `{{` at character {} has no `}}`; write `{{{{` for a literal brace",
                         i + 1);
    const auto name = text.substr(i + 1, close - i - 1);
    if (name.empty() || name.find('{') != std::string_view::npos)
      return fmt::format(
          "the `{{` at character {} holds no placeholder name; write `{{{{` for a "
          "literal brace",
          i + 1);
    if (!literal.empty()) out.push_back({std::move(literal), false});
    literal.clear();
    out.push_back({std::string(name), true});
    i = close;
  }
  if (!literal.empty()) out.push_back({std::move(literal), false});
  return out;
}

}  // namespace restsync

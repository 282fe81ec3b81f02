#include "restsync/config/placeholders.hpp"

#include <fmt/format.h>

#include "restsync/config/placeholder.hpp"

namespace restsync {

std::variant<std::vector<std::string>, std::string> placeholder_names(std::string_view text) {
  auto pieces = parse_template(text);
  if (auto* error = std::get_if<std::string>(&pieces)) return std::move(*error);
  std::vector<std::string> names;
  for (const auto& p : std::get<std::vector<template_piece>>(pieces)) {
    if (!p.placeholder) continue;
    if (p.text.find_first_of("!:") != std::string::npos)
      return fmt::format("`{{{}}}` is not a plain placeholder (no `!` or `:`)", p.text);
    names.push_back(p.text);
  }
  return names;
}

std::optional<std::string> fill_placeholders(
    std::string_view text,
    const std::function<std::optional<std::string>(std::string_view name)>& value) {
  auto pieces = parse_template(text);
  if (std::holds_alternative<std::string>(pieces)) return std::nullopt;
  std::string out;
  for (const auto& p : std::get<std::vector<template_piece>>(pieces)) {
    if (!p.placeholder) {
      out += p.text;
    } else if (auto v = value(p.text)) {
      out += *v;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::string path_segment(std::string_view value) {
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace restsync

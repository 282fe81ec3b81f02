// The strings of a request body as dlt reads them (Python's str.format):
// `{name}` is a placeholder filled per run, `{{` and `}}` stand for literal
// braces. The configuration reader checks them; plan/request_body.hpp fills them.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace restsync {

struct template_piece {
  std::string text;  // literal text, or the placeholder's name
  bool placeholder = false;

  bool operator==(const template_piece&) const = default;
};

// The pieces of text in order, or what is wrong with it (a `{` without its
// `}`, an empty `{}`, a `}` alone).
std::variant<std::vector<template_piece>, std::string> parse_template(std::string_view text);

// The placeholders a body may hold: dlt's {incremental.start_value},
// {incremental.end_value} and {incremental.initial_value}.
std::span<const std::string_view> body_placeholders();

// Whether text is a JSON number literal (`-12`, `0.5`, `1e9`): a plain YAML
// scalar that reads as one is a number in a JSON body.
bool is_json_number(std::string_view text);

}  // namespace restsync

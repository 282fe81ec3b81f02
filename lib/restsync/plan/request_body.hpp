// The JSON body of a POST, built in one place for the engine, which sends
// it, and for check-config, which prints the first: endpoint.json with its
// placeholders filled, then the paging position written into it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "restsync/config/config.hpp"

namespace restsync {

// A value written into a body: its text, as a JSON number or as a string.
struct body_value {
  std::string text;
  bool number = false;

  bool operator==(const body_value&) const = default;
};

struct body_field {
  json_path path;
  body_value value;
};

// A placeholder's value by its name (`incremental.start_value`); nullopt
// when it has none (yet).
using placeholder_lookup = std::function<std::optional<body_value>(std::string_view name)>;

// The template (endpoint.json's text) with its placeholders filled, as dlt
// fills them: a string that is one placeholder alone becomes the value,
// keeping its type (a number stays a number); a placeholder inside other
// text is replaced by the value's text; `{{` and `}}` become braces. A
// member or list item whose placeholder has no value is left out, as a query
// parameter is. Throws std::invalid_argument for a template that is not
// JSON (the configuration reader only makes valid ones).
std::string fill_body(std::string_view template_json, const placeholder_lookup& values);

// body (a JSON object's text; empty: `{}`) with each field written at its
// path, the objects on the way made as needed and a value already there
// replaced (dlt's set_value_at_path). Throws std::invalid_argument when a
// step of a path is not an object (the configuration reader refuses a
// template that would make one).
std::string write_fields(std::string_view body, const std::vector<body_field>& fields);

// A value as a body carries it: a JSON number literal as a number, anything
// else as a string.
body_value as_body_value(std::string text);

}  // namespace restsync

// dlt's `{…}` placeholders in a path or a parameter (Python's str.format
// syntax: `{name}`, with `{{` and `}}` for literal braces), found and filled,
// on placeholder.hpp's parse_template (which request bodies use too).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace restsync {

// The names of text's placeholders, in order (repeats kept); or why text is
// not a template (an unmatched brace, an empty `{}`, a format spec).
std::variant<std::vector<std::string>, std::string> placeholder_names(std::string_view text);

// text with each placeholder replaced by value(name); nullopt when value
// gives nullopt for one. text must be a template placeholder_names accepts.
std::optional<std::string> fill_placeholders(
    std::string_view text,
    const std::function<std::optional<std::string>(std::string_view name)>& value);

// A value as a path segment: every byte but RFC 3986's unreserved ones
// percent-encoded, so that an id holding `/`, `?` or `%` stays one segment.
std::string path_segment(std::string_view value);

}  // namespace restsync

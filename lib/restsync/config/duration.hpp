// Durations as the configuration writes them: `500ms`, `30s`, `15m`, `1h`,
// `2d`, sequences such as `1h30m`, or a bare number of seconds.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace restsync {

// The duration the text denotes, or nullopt when it is not one. Fractions are
// allowed (`1.5s`, `0.25`) and rounded to whole milliseconds; negative values
// are not durations.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The form parse_duration reads back, largest units first: `1h30m`, `500ms`, `0s`.
std::string format_duration(std::chrono::milliseconds d);

}  // namespace restsync

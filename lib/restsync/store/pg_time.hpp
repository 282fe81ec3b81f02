// PostgreSQL's text form of timestamptz (`2024-05-01 12:34:56.789+02`,
// `…-03:30`), whatever the session's TimeZone, as a point in time.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace restsync {

std::optional<std::chrono::system_clock::time_point> parse_pg_timestamptz(std::string_view text);

// `2024-05-01T10:34:56Z`: UTC, whole seconds.
std::string format_utc(std::chrono::system_clock::time_point t);

}  // namespace restsync

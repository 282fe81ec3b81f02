// The value of an incremental-sync cursor (`updatedAt`, `modified_ms`): a point
// in time as the API wrote it, epoch seconds, epoch milliseconds or an
// ISO-8601 date-time, comparable across the three.
#pragma once

#include <rapidjson/fwd.h>

#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace restsync {

enum class cursor_form { epoch_seconds, epoch_millis, iso8601 };

struct cursor_value {
  std::int64_t micros = 0;  // since 1970-01-01T00:00:00Z; what comparisons use
  cursor_form form = cursor_form::epoch_seconds;
  // The value in its form, to store and to send back to the API: epoch forms
  // as the number was written (`1700000000`, `1700000000.25`, `1.7e9`), an
  // ISO-8601 date-time as written.
  std::string text;
};

// Cursors compare as points in time, whatever their form or spelling:
// 1700000000, 1700000000000 and "2023-11-14T23:13:20+01:00" are equal.
int compare(const cursor_value& a, const cursor_value& b);
inline std::strong_ordering operator<=>(const cursor_value& a, const cursor_value& b) {
  return a.micros <=> b.micros;
}
inline bool operator==(const cursor_value& a, const cursor_value& b) {
  return a.micros == b.micros;
}

// A JSON number literal as an epoch time. A magnitude of at least 1e11 is
// milliseconds, anything smaller seconds: 1e11 seconds is the year 5138,
// 1e11 milliseconds is 1973-03-03. Fractions are kept to the microsecond,
// rounded toward negative infinity. nullopt when literal is not a JSON number
// or the time is beyond ±292,000 years (int64 microseconds).
std::optional<cursor_value> parse_cursor_number(std::string_view literal);

// A JSON string as a cursor: a plain decimal number (`-`, digits, a fraction;
// no exponent) as parse_cursor_number reads it, else an ISO-8601 / RFC 3339
// date-time: `YYYY-MM-DD` (midnight UTC), `YYYY-MM-DDTHH:MM`, `…:SS`, `…:SS.f`
// (1 to 9 digits, truncated to microseconds); `T`, `t` or one space before
// the time; after a time optionally `Z`, `z`, `±HH:MM`, `±HHMM` or `±HH`, no
// zone meaning UTC. A leap second (`:60`) is the first second of the next
// minute. nullopt for anything else, including impossible dates.
std::optional<cursor_value> parse_cursor_string(std::string_view s);

// A configuration's initial_value or end_value, the YAML scalar's text: a
// JSON number literal (`1.7e9` too), else what parse_cursor_string reads.
std::optional<cursor_value> parse_cursor_config(std::string_view text);

// A record's cursor field as page.hpp holds it: an integer, a double (its
// text is its shortest form without exponent), a marked number (its literal)
// or a string. nullopt for null, booleans, arrays, objects and text that is
// not a cursor.
std::optional<cursor_value> parse_cursor_json(const rapidjson::Value& v);

// The point micros in form, its text rendered: epoch seconds and
// milliseconds as an integer when whole, else a decimal of at most 6 or 3
// fraction digits without trailing zeros (`-1.5`); iso8601 as
// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` in UTC, the fraction only when not zero and
// without trailing zeros.
cursor_value cursor_at(std::int64_t micros, cursor_form form);

// v moved back by d (a `lag`), in v's form with the text rendered as cursor_at
// does; v itself, text as written, when d is zero. Saturates at the int64
// microsecond range.
cursor_value minus(const cursor_value& v, std::chrono::microseconds d);

// `epoch seconds`, `epoch milliseconds`, `ISO-8601 date-time`: for messages.
std::string describe(cursor_form form);

}  // namespace restsync

#include "restsync/incremental/cursor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <system_error>
#include <utility>

#include "restsync/paging/page.hpp"

namespace restsync {

namespace {

constexpr std::int64_t micros_per_second = 1'000'000;
constexpr std::int64_t micros_per_day = 86'400 * micros_per_second;
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// At least this magnitude, an epoch number is milliseconds.
constexpr std::int64_t millis_threshold_exponent = 11;

// A decimal number as its significant digits times a power of ten.
struct decimal {
  bool negative = false;
  std::string digits;  // no leading zeros; empty for zero
  std::int64_t exponent = 0;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::size_t digit_run(std::string_view s, std::size_t pos) {
  std::size_t end = pos;
  while (end < s.size() && is_digit(s[end])) ++end;
  return end - pos;
}

decimal make_decimal(bool negative, std::string_view int_digits, std::string_view frac_digits,
                     std::int64_t exponent) {
  decimal d;
  d.negative = negative;
  d.digits.reserve(int_digits.size() + frac_digits.size());
  d.digits.append(int_digits).append(frac_digits);
  d.digits.erase(0, d.digits.find_first_not_of('0'));
  d.exponent = exponent - static_cast<std::int64_t>(frac_digits.size());
  return d;
}

// `-?[0-9]+(\.[0-9]+)?` at the start of s; with json, no leading zero
// (`-?(0|[1-9][0-9]*)`). end: where it stopped.
struct number_head {
  bool negative = false;
  std::string_view int_digits, frac_digits;
  std::size_t end = 0;
};
std::optional<number_head> scan_number_head(std::string_view s, bool json) {
  number_head h;
  std::size_t pos = 0;
  h.negative = pos < s.size() && s[pos] == '-';
  if (h.negative) ++pos;
  const std::size_t int_len = digit_run(s, pos);
  if (int_len == 0 || (json && int_len > 1 && s[pos] == '0')) return std::nullopt;
  h.int_digits = s.substr(pos, int_len);
  pos += int_len;
  if (pos < s.size() && s[pos] == '.') {
    const std::size_t frac_len = digit_run(s, pos + 1);
    if (frac_len == 0) return std::nullopt;
    h.frac_digits = s.substr(pos + 1, frac_len);
    pos += 1 + frac_len;
  }
  h.end = pos;
  return h;
}

// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` (RFC 8259).
std::optional<decimal> scan_json_number(std::string_view s) {
  auto h = scan_number_head(s, true);
  if (!h) return std::nullopt;
  std::size_t pos = h->end;
  std::int64_t exponent = 0;
  if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
    ++pos;
    bool exponent_negative = false;
    if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) exponent_negative = s[pos++] == '-';
    const std::size_t exp_len = digit_run(s, pos);
    if (exp_len == 0) return std::nullopt;
    // Past this any non-zero value is out of range or rounds to 0 or -1 µs
    // either way; the cap keeps the arithmetic below from overflowing.
    constexpr std::int64_t cap = 1'000'000;
    for (char c : s.substr(pos, exp_len)) exponent = std::min(cap, exponent * 10 + (c - '0'));
    if (exponent_negative) exponent = -exponent;
    pos += exp_len;
  }
  if (pos != s.size()) return std::nullopt;
  return make_decimal(h->negative, h->int_digits, h->frac_digits, exponent);
}

// `-?[0-9]+(\.[0-9]+)?`: an epoch time inside a JSON string.
std::optional<decimal> scan_plain_decimal(std::string_view s) {
  auto h = scan_number_head(s, false);
  if (!h || h->end != s.size()) return std::nullopt;
  return make_decimal(h->negative, h->int_digits, h->frac_digits, 0);
}

cursor_form guess_epoch_form(const decimal& d) {
  if (d.digits.empty()) return cursor_form::epoch_seconds;
  // The value lies in [10^m, 10^(m+1)) for this m.
  const std::int64_t magnitude = static_cast<std::int64_t>(d.digits.size()) - 1 + d.exponent;
  return magnitude >= millis_threshold_exponent ? cursor_form::epoch_millis
                                                : cursor_form::epoch_seconds;
}

// floor(d * 10^scale), when it fits an int64.
std::optional<std::int64_t> scaled_floor(const decimal& d, std::int64_t scale) {
  if (d.digits.empty()) return 0;
  constexpr std::uint64_t limit = std::uint64_t{1} << 63;  // |int64_min|
  const std::int64_t shift = d.exponent + scale;
  const std::int64_t len = static_cast<std::int64_t>(d.digits.size());
  const std::int64_t whole_len = std::min(len, len + shift);
  std::uint64_t magnitude = 0;
  auto push = [&](unsigned digit) {
    if (magnitude > (limit - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
    return true;
  };
  for (std::int64_t i = 0; i < whole_len; ++i) {
    if (!push(static_cast<unsigned>(d.digits[static_cast<std::size_t>(i)] - '0'))) {
      return std::nullopt;
    }
  }
  for (std::int64_t i = 0; i < shift; ++i) {
    if (!push(0)) return std::nullopt;
  }
  bool dropped = false;
  for (std::int64_t i = std::max<std::int64_t>(whole_len, 0); i < len && !dropped; ++i) {
    dropped = d.digits[static_cast<std::size_t>(i)] != '0';
  }
  if (d.negative) {
    if (dropped) ++magnitude;
    if (magnitude > limit) return std::nullopt;
    return magnitude == limit ? int64_min : -static_cast<std::int64_t>(magnitude);
  }
  if (magnitude >= limit) return std::nullopt;
  return static_cast<std::int64_t>(magnitude);
}

std::int64_t micros_scale(cursor_form form) { return form == cursor_form::epoch_millis ? 3 : 6; }

std::optional<cursor_value> epoch_value(const decimal& d, cursor_form form, std::string_view text) {
  auto micros = scaled_floor(d, micros_scale(form));
  if (!micros) return std::nullopt;
  return cursor_value{*micros, form, std::string(text)};
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 in the proleptic
// Gregorian calendar.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil_date {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

// Howard Hinnant's civil_from_days, the inverse of days_from_civil.
civil_date civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

bool is_leap(std::int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

unsigned days_in_month(std::int64_t y, unsigned m) {
  constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

class iso_reader {
 public:
  explicit iso_reader(std::string_view s) : s_(s) {}

  bool done() const { return pos_ == s_.size(); }
  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool take(char c) {
    if (!peek(c)) return false;
    ++pos_;
    return true;
  }
  std::optional<char> take_any(std::string_view chars) {
    if (done() || chars.find(s_[pos_]) == std::string_view::npos) return std::nullopt;
    return s_[pos_++];
  }
  // Exactly n digits.
  std::optional<unsigned> number(std::size_t n) {
    if (s_.size() - pos_ < n) return std::nullopt;
    unsigned v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = s_[pos_ + i];
      if (!is_digit(c)) return std::nullopt;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    pos_ += n;
    return v;
  }
  // 1 to 9 digits of a fraction of a second, as microseconds (truncated).
  std::optional<std::int64_t> fraction() {
    const std::size_t len = digit_run(s_, pos_);
    if (len == 0 || len > 9) return std::nullopt;
    std::int64_t micros = 0;
    for (std::size_t i = 0; i < 6; ++i) {
      micros = micros * 10 + (i < len ? s_[pos_ + i] - '0' : 0);
    }
    pos_ += len;
    return micros;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

// The zone's offset east of UTC in seconds; at the end of the text.
std::optional<std::int64_t> read_zone(iso_reader& r) {
  if (r.done()) return 0;
  if (r.take_any("Zz")) return r.done() ? std::optional<std::int64_t>(0) : std::nullopt;
  const auto sign = r.take_any("+-");
  if (!sign) return std::nullopt;
  const auto hours = r.number(2);
  if (!hours || *hours > 23) return std::nullopt;
  unsigned minutes = 0;
  if (!r.done()) {
    r.take(':');
    const auto m = r.number(2);
    if (!m || *m > 59 || !r.done()) return std::nullopt;
    minutes = *m;
  }
  const std::int64_t offset = std::int64_t{*hours} * 3600 + std::int64_t{minutes} * 60;
  return *sign == '-' ? -offset : offset;
}

std::optional<cursor_value> parse_iso(std::string_view s) {
  iso_reader r(s);
  const auto year = r.number(4);
  if (!year || !r.take('-')) return std::nullopt;
  const auto month = r.number(2);
  if (!month || *month < 1 || *month > 12 || !r.take('-')) return std::nullopt;
  const auto day = r.number(2);
  if (!day || *day < 1 || *day > days_in_month(*year, *month)) return std::nullopt;
  const std::int64_t days = days_from_civil(*year, *month, *day);
  if (r.done()) return cursor_value{days * micros_per_day, cursor_form::iso8601, std::string(s)};

  if (!r.take_any("Tt ")) return std::nullopt;
  const auto hour = r.number(2);
  if (!hour || *hour > 23 || !r.take(':')) return std::nullopt;
  const auto minute = r.number(2);
  if (!minute || *minute > 59) return std::nullopt;
  unsigned second = 0;
  std::int64_t fraction = 0;
  if (r.take(':')) {
    const auto sec = r.number(2);
    if (!sec || *sec > 60) return std::nullopt;
    second = *sec;
    if (r.take('.')) {
      const auto f = r.fraction();
      if (!f) return std::nullopt;
      fraction = *f;
    }
  }
  const auto offset = read_zone(r);
  if (!offset) return std::nullopt;
  const std::int64_t seconds =
      days * 86'400 + std::int64_t{*hour} * 3600 + std::int64_t{*minute} * 60 + second - *offset;
  return cursor_value{seconds * micros_per_second + fraction, cursor_form::iso8601, std::string(s)};
}

// floor(a / b) and its non-negative remainder, for b > 0.
std::pair<std::int64_t, std::int64_t> floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  std::int64_t r = a % b;
  if (r < 0) {
    --q;
    r += b;
  }
  return {q, r};
}

// `.5`, `.000001`: part written in width digits, trailing zeros trimmed, or
// nothing when it is zero.
std::string fraction_text(std::uint64_t part, int width) {
  if (part == 0) return {};
  std::string digits = fmt::format("{:0{}}", part, width);
  digits.erase(digits.find_last_not_of('0') + 1);
  return "." + digits;
}

std::string epoch_text(std::int64_t micros, std::uint64_t unit, int width) {
  const bool negative = micros < 0;
  // Through unsigned arithmetic so that int64_min has a magnitude.
  const std::uint64_t magnitude = negative ? std::uint64_t{0} - static_cast<std::uint64_t>(micros)
                                           : static_cast<std::uint64_t>(micros);
  return fmt::format("{}{}{}", negative ? "-" : "", magnitude / unit,
                     fraction_text(magnitude % unit, width));
}

std::string iso_text(std::int64_t micros) {
  const auto [days, in_day] = floor_div(micros, micros_per_day);
  const civil_date date = civil_from_days(days);
  const std::int64_t seconds = in_day / micros_per_second;
  const std::string year =
      date.year < 0 ? fmt::format("-{:04}", -date.year) : fmt::format("{:04}", date.year);
  return fmt::format("{}-{:02}-{:02}T{:02}:{:02}:{:02}{}Z", year, date.month, date.day,
                     seconds / 3600, seconds / 60 % 60, seconds % 60,
                     fraction_text(static_cast<std::uint64_t>(in_day % micros_per_second), 6));
}

}  // namespace

int compare(const cursor_value& a, const cursor_value& b) {
  return a.micros < b.micros ? -1 : a.micros > b.micros ? 1 : 0;
}

std::optional<cursor_value> parse_cursor_number(std::string_view literal) {
  auto d = scan_json_number(literal);
  if (!d) return std::nullopt;
  return epoch_value(*d, guess_epoch_form(*d), literal);
}

std::optional<cursor_value> parse_cursor_string(std::string_view s) {
  if (auto d = scan_plain_decimal(s)) return epoch_value(*d, guess_epoch_form(*d), s);
  return parse_iso(s);
}

std::optional<cursor_value> parse_cursor_config(std::string_view text) {
  if (auto v = parse_cursor_number(text)) return v;
  return parse_cursor_string(text);
}

std::optional<cursor_value> parse_cursor_json(const rapidjson::Value& v) {
  if (is_marked_number(v)) return parse_cursor_number(marked_number_text(v));
  if (v.IsString()) return parse_cursor_string({v.GetString(), v.GetStringLength()});
  // Enough for any double in fixed notation: 309 integer digits, or 0. and
  // 324 fraction digits, and a sign.
  char buf[400];
  std::to_chars_result r{};
  if (v.IsInt64()) {
    r = std::to_chars(buf, buf + sizeof buf, v.GetInt64());
  } else if (v.IsUint64()) {
    r = std::to_chars(buf, buf + sizeof buf, v.GetUint64());
  } else if (v.IsDouble()) {
    // A plain double's literal has the decimal value of its shortest form.
    r = std::to_chars(buf, buf + sizeof buf, v.GetDouble(), std::chars_format::fixed);
  } else {
    return std::nullopt;
  }
  if (r.ec != std::errc{}) return std::nullopt;
  return parse_cursor_number({buf, static_cast<std::size_t>(r.ptr - buf)});
}

cursor_value cursor_at(std::int64_t micros, cursor_form form) {
  switch (form) {
    case cursor_form::epoch_seconds:
      return {micros, form, epoch_text(micros, micros_per_second, 6)};
    case cursor_form::epoch_millis:
      return {micros, form, epoch_text(micros, 1000, 3)};
    case cursor_form::iso8601:
      break;
  }
  return {micros, form, iso_text(micros)};
}

cursor_value minus(const cursor_value& v, std::chrono::microseconds d) {
  const std::int64_t by = d.count();
  if (by == 0) return v;
  std::int64_t micros = 0;
  if (by > 0 && v.micros < int64_min + by) {
    micros = int64_min;
  } else if (by < 0 && v.micros > int64_max + by) {
    micros = int64_max;
  } else {
    micros = v.micros - by;
  }
  return cursor_at(micros, v.form);
}

std::string describe(cursor_form form) {
  switch (form) {
    case cursor_form::epoch_seconds:
      return "epoch seconds";
    case cursor_form::epoch_millis:
      return "epoch milliseconds";
    case cursor_form::iso8601:
      break;
  }
  return "ISO-8601 date-time";
}

}  // namespace restsync

#include "restsync/store/pg_time.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <charconv>

namespace restsync {

namespace {

class cursor {
 public:
  explicit cursor(std::string_view t) : t_(t) {}

  bool number(std::size_t digits, int& out) {
    if (t_.size() < digits) return false;
    auto [end, ec] = std::from_chars(t_.data(), t_.data() + digits, out);
    if (ec != std::errc{} || end != t_.data() + digits) return false;
    t_.remove_prefix(digits);
    return true;
  }
  bool literal(char c) {
    if (t_.empty() || t_.front() != c) return false;
    t_.remove_prefix(1);
    return true;
  }
  std::optional<char> peek() const {
    return t_.empty() ? std::nullopt : std::optional<char>(t_.front());
  }
  bool done() const { return t_.empty(); }

 private:
  std::string_view t_;
};

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_pg_timestamptz(std::string_view text) {
  using namespace std::chrono;
  cursor c(text);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!c.number(4, y) || !c.literal('-') || !c.number(2, mo) || !c.literal('-') ||
      !c.number(2, d) || !(c.literal(' ') || c.literal('T')) || !c.number(2, h) ||
      !c.literal(':') || !c.number(2, mi) || !c.literal(':') || !c.number(2, s))
    return std::nullopt;
  microseconds frac{0};
  if (c.literal('.')) {
    int digits = 0;
    std::int64_t value = 0;
    while (c.peek() && *c.peek() >= '0' && *c.peek() <= '9') {
      int digit = 0;
      c.number(1, digit);
      if (digits < 6) {
        value = value * 10 + digit;
        ++digits;
      }
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 6; ++i) value *= 10;
    frac = microseconds(value);
  }
  int offset_minutes = 0;
  if (c.literal('Z')) {
  } else if (auto sign = c.peek(); sign == '+' || sign == '-') {
    c.literal(*sign);
    int oh = 0, om = 0, os = 0;
    if (!c.number(2, oh)) return std::nullopt;
    if (c.literal(':')) {
      if (!c.number(2, om)) return std::nullopt;
      if (c.literal(':') && !c.number(2, os)) return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (*sign == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  if (!c.done()) return std::nullopt;
  const year_month_day date{year(y), month(static_cast<unsigned>(mo)),
                            day(static_cast<unsigned>(d))};
  if (!date.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  sys_time<microseconds> t = sys_days(date) + hours(h) + minutes(mi) + seconds(s) + frac;
  t -= minutes(offset_minutes);
  return time_point_cast<system_clock::duration>(t);
}

std::string format_utc(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::floor<std::chrono::seconds>(t));
}

}  // namespace restsync

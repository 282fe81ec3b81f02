#include "restsync/config/duration.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace restsync {

namespace {

struct unit {
  std::string_view suffix;
  std::int64_t ms;
};

// "ms" precedes "m" so that the longer suffix wins.
constexpr std::array<unit, 5> units{{
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 60 * 60 * 1000},
    {"d", 24 * 60 * 60 * 1000},
}};

// About 285 years: far beyond any sensible setting, far below overflow.
constexpr double max_ms = 9e12;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;

  double total = 0;
  bool first = true;
  while (!text.empty()) {
    // from_chars would also take a sign, an exponent or "inf"; only plain
    // decimals are durations.
    std::size_t n = 0;
    while (n < text.size() && (is_digit(text[n]) || text[n] == '.')) ++n;
    if (n == 0 || !is_digit(text[0])) return std::nullopt;
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + n, value);
    if (ec != std::errc{} || end != text.data() + n) return std::nullopt;
    text.remove_prefix(n);

    if (text.empty() && first) return std::chrono::milliseconds(std::llround(value * 1000));
    const unit* found = nullptr;
    for (const auto& u : units) {
      if (text.starts_with(u.suffix)) {
        found = &u;
        break;
      }
    }
    if (found == nullptr) return std::nullopt;
    text.remove_prefix(found->suffix.size());
    total += value * static_cast<double>(found->ms);
    if (total > max_ms) return std::nullopt;
    first = false;
  }
  return std::chrono::milliseconds(std::llround(total));
}

std::string format_duration(std::chrono::milliseconds d) {
  if (d.count() == 0) return "0s";
  if (d.count() < 0) return "-" + format_duration(-d);
  std::string out;
  std::int64_t left = d.count();
  for (auto it = units.rbegin(); it != units.rend(); ++it) {
    if (left >= it->ms) {
      out += std::to_string(left / it->ms);
      out += it->suffix;
      left %= it->ms;
    }
  }
  return out;
}

}  // namespace restsync

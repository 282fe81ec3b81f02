#include "restsync/config/byte_size.hpp"

#include <array>
#include <charconv>
#include <limits>

namespace restsync {

namespace {

struct unit {
  std::string_view suffix;
  std::int64_t bytes;
};

constexpr std::array<unit, 7> units{{
    {"B", 1},
    {"KB", 1000},
    {"MB", 1000 * 1000},
    {"GB", 1000 * 1000 * 1000},
    {"KiB", std::int64_t{1} << 10},
    {"MiB", std::int64_t{1} << 20},
    {"GiB", std::int64_t{1} << 30},
}};

}  // namespace

std::optional<std::int64_t> parse_byte_size(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{}) return std::nullopt;
  std::string_view suffix = text.substr(static_cast<std::size_t>(end - text.data()));
  if (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
  if (suffix.empty()) return value;
  for (const auto& u : units) {
    if (suffix == u.suffix) {
      if (value > std::numeric_limits<std::int64_t>::max() / u.bytes) return std::nullopt;
      return value * u.bytes;
    }
  }
  return std::nullopt;
}

std::string format_byte_size(std::int64_t bytes) {
  for (auto it = units.rbegin(); it != units.rend(); ++it) {
    if (it->suffix.find('i') == std::string_view::npos) continue;
    if (bytes > 0 && bytes % it->bytes == 0) {
      return std::to_string(bytes / it->bytes) + " " + std::string(it->suffix);
    }
  }
  return std::to_string(bytes) + " bytes";
}

}  // namespace restsync

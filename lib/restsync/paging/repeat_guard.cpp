#include "restsync/paging/repeat_guard.hpp"

#include <string>

namespace restsync {

namespace {

// FNV-1a, 64 bits: no security role, only a stable digest of a few strings.
std::uint64_t fnv1a(std::uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

std::uint64_t page_fingerprint(std::size_t records, std::string_view first_key,
                               std::string_view last_key) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  h = fnv1a(h, std::to_string(records));
  h = fnv1a(h, std::string_view("\0", 1));
  h = fnv1a(h, first_key);
  h = fnv1a(h, std::string_view("\0", 1));
  return fnv1a(h, last_key);
}

std::optional<std::int64_t> page_repeat_guard::on_page(std::int64_t position,
                                                       std::uint64_t fingerprint) {
  auto [it, fresh] = seen_.try_emplace(fingerprint, sighting{position, position, 1});
  if (fresh) return std::nullopt;
  auto& s = it->second;
  // The same position read twice (a refill, a rescan's anchor) is no repeat.
  if (position == s.first_position || position == s.last_position) return std::nullopt;
  s.last_position = position;
  if (++s.positions < positions_to_fail) return std::nullopt;
  return s.first_position;
}

}  // namespace restsync

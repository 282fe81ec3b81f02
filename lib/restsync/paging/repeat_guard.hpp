// Tells when an API ignores the paging parameter: the same page comes back
// at different positions of one scan (an offset, a page number, a cursor
// that changes while the records do not). Pure: fingerprints in, a verdict out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

namespace restsync {

// A page's fingerprint: its record count and the keys of its first and last
// records (as key renderings). Two reads of the same page agree on it.
std::uint64_t page_fingerprint(std::size_t records, std::string_view first_key,
                               std::string_view last_key);

class page_repeat_guard {
 public:
  // A scan fails once one non-empty page has been read at this many
  // different positions. Data that moves under a scan can make two pages at
  // two positions agree; three takes an API that does not page.
  static constexpr int positions_to_fail = 3;

  // The page read at position; returns the first position it was read at
  // when that page has now been read at positions_to_fail positions.
  std::optional<std::int64_t> on_page(std::int64_t position, std::uint64_t fingerprint);

  void reset() { seen_.clear(); }

 private:
  struct sighting {
    std::int64_t first_position;
    std::int64_t last_position;
    int positions;
  };
  std::map<std::uint64_t, sighting> seen_;
};

}  // namespace restsync

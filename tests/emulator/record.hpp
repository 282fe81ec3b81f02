// One record of a resource, kept as its serialized JSON so that pages are
// built by concatenation.
#pragma once

#include <cstdint>
#include <string>

namespace emulator {

struct record {
  std::string json;
  std::string key;           // primary key as text: digits, or the string's value
  std::int64_t when = 0;     // the feed's order key
  std::uint64_t serial = 0;  // stable identity for derived values (late fields)
  // Where the drift field's value sits in json; drift_len 0 when absent or null.
  std::uint32_t drift_pos = 0;
  std::uint32_t drift_len = 0;
  bool late = false;  // carries late fields under the late_fields quirk
};

}  // namespace emulator

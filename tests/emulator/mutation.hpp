// POST /__mutate: adds, changes and removes records between two requests.
#pragma once

#include <string>
#include <string_view>

#include "data_set.hpp"
#include "settings.hpp"

namespace emulator {

struct mutation_result {
  bool ok = false;
  // {"added":[ids],"changed":[ids],"removed":[ids]}, or what is wrong.
  std::string body;
};

// Applies every op or none. Positions ("front", "back", "spread") are paging
// positions under the current quirks.
mutation_result apply_mutations(data_set& data, std::string_view body, quirk_set quirks);

}  // namespace emulator

// The progress block `restsyncd sync` shows on a terminal, as text: a line
// for the whole sync (runs done, the gate's rate or its 429 pause, time
// spent and left), then one per resource. Pure: no terminal, no clock.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "restsync/observe/sync_progress.hpp"

namespace restsync {

// The block at `now`: each line at most `width` columns (cut, not wrapped),
// at most `max_lines` lines (resources beyond are counted in the last).
// Plain ASCII but for resource names; no control characters.
std::vector<std::string> render_progress(
    const sync_progress& progress, progress_sink::clock::time_point now, std::size_t width,
    std::size_t max_lines = std::numeric_limits<std::size_t>::max());

// `text` cut to `width` columns, counting one per UTF-8 character.
std::string cut_to_width(std::string_view text, std::size_t width);

}  // namespace restsync

// The window of an incremental run: from which cursor value it reads, to
// which, and whether it reads everything (a full run, which alone can prove
// deletions). Pure: the resource, the stored state and the run's flags in.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "restsync/config/config.hpp"
#include "restsync/incremental/cursor.hpp"

namespace restsync {

// What the database knows before the run.
struct window_state {
  std::optional<std::string> cursor;  // _rs_state.cursor_value
  // Seconds since the last complete scan; nullopt: never.
  std::optional<double> since_complete_scan;
};

struct incremental_window {
  std::optional<cursor_value> start;     // records before it are left out (lag applied)
  std::optional<cursor_value> end;       // records at or after it are left out
  std::optional<cursor_value> previous;  // the stored cursor before the run
  // The run reads every record: a full refresh, a replace, a first run or a
  // periodic full scan (full_scan_every) is due.
  bool full = true;
  // row_order desc and a start to stop at: paging stops at the first page
  // that is all older than start.
  bool stop_at_start = false;
};

// The window of a run of rc, which has endpoint.incremental. A full run
// starts at initial_value; any other at the stored cursor when that is
// later; lag moves the start back either way. The message (naming the
// resource) when the stored cursor does not read as a cursor.
std::variant<incremental_window, std::string> plan_window(const resource_config& rc,
                                                          const window_state& state,
                                                          bool full_refresh);

}  // namespace restsync

#include "restsync/incremental/window.hpp"

#include <fmt/format.h>

#include <chrono>

namespace restsync {

std::variant<incremental_window, std::string> plan_window(const resource_config& rc,
                                                          const window_state& state,
                                                          bool full_refresh) {
  const auto& inc = *rc.endpoint.incremental;
  incremental_window w;
  if (inc.initial_value) w.start = parse_cursor_config(*inc.initial_value);
  if (inc.end_value) w.end = parse_cursor_config(*inc.end_value);
  if (state.cursor) {
    w.previous = parse_cursor_config(*state.cursor);
    if (!w.previous)
      return fmt::format(
          "{}: the stored cursor '{}' (_rs_state.cursor_value) is not a "
          "timestamp; fix or clear it, or run with --full-refresh",
          rc.name, *state.cursor);
  }
  // A replace run must see everything; so must a full refresh and, every
  // full_scan_every, a periodic full scan (it finds deletions).
  const bool due = rc.full_scan_every && (!state.since_complete_scan ||
                                          *state.since_complete_scan * 1000.0 >=
                                              static_cast<double>(rc.full_scan_every->count()));
  w.full = full_refresh || due || rc.write_disposition == disposition::replace || !w.previous;
  if (!w.full && (!w.start || compare(*w.previous, *w.start) > 0)) w.start = w.previous;
  if (w.start && inc.lag.count() > 0)
    w.start = minus(*w.start, std::chrono::duration_cast<std::chrono::microseconds>(inc.lag));
  w.stop_at_start = inc.order == row_order::desc && w.start && !w.full;
  return w;
}

}  // namespace restsync

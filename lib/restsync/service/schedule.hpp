// When a resource runs next: its interval between starts, a random jitter on
// top, and after failures a shorter, doubling backoff that never waits longer
// than the interval itself.
#pragma once

#include <chrono>

#include "restsync/config/config.hpp"

namespace restsync {

// The wait before retrying after `consecutive_failures` (≥ 1) failed runs:
// failure_backoff · 2^(n-1), at most the interval.
std::chrono::milliseconds failure_delay(const schedule_config& s, int consecutive_failures);

// When the next run starts, given when the last one started and finished;
// random01 in [0, 1) picks the jitter. Runs never overlap: a run that took
// longer than the interval is followed by the next one at once.
std::chrono::steady_clock::time_point next_run_at(const schedule_config& s,
                                                  std::chrono::steady_clock::time_point started,
                                                  std::chrono::steady_clock::time_point finished,
                                                  int consecutive_failures, double random01);

}  // namespace restsync

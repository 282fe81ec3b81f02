#include "restsync/service/schedule.hpp"

#include <algorithm>

namespace restsync {

using std::chrono::milliseconds;

milliseconds failure_delay(const schedule_config& s, int consecutive_failures) {
  milliseconds d = s.failure_backoff;
  for (int i = 1; i < consecutive_failures && d < s.interval; ++i) d *= 2;
  return std::min(d, s.interval);
}

std::chrono::steady_clock::time_point next_run_at(const schedule_config& s,
                                                  std::chrono::steady_clock::time_point started,
                                                  std::chrono::steady_clock::time_point finished,
                                                  int consecutive_failures, double random01) {
  milliseconds wait =
      consecutive_failures > 0 ? failure_delay(s, consecutive_failures) : s.interval;
  const double r = std::clamp(random01, 0.0, 1.0);
  wait += milliseconds(static_cast<milliseconds::rep>(static_cast<double>(s.jitter.count()) * r));
  return std::max(started + wait, finished);
}

}  // namespace restsync

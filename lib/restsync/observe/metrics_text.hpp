// The Prometheus text exposition (format 0.0.4) of the daemon's metrics: per
// resource runs, records and requests from the run ledger, the requests in
// flight right now, and the process's own memory and file descriptors.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "restsync/observe/run_ledger.hpp"

namespace restsync {

// Read from /proc by the caller; absent when unavailable.
struct process_stats {
  std::optional<std::int64_t> resident_bytes;
  std::optional<std::int64_t> open_fds;
};

// Read from the scheduler by the caller at scrape time.
struct live_stats {
  // Requests awaiting their response, by resource; absent: none.
  std::map<std::string, std::int64_t, std::less<>> in_flight;
  // Requests per second the shared rate gate allows now: the configured
  // rate, or less as learned from 429s; 0: no limit. Absent: no engine.
  std::optional<double> gate_allowed_rate;
  // client.rate_limit.requests_per_second of the configuration in force;
  // 0: no limit. Absent: no configuration yet.
  std::optional<double> gate_configured_rate;
  // This daemon's name among those sharing the database; empty: none.
  std::string instance;
};

// A label value with `\`, `"` and newlines escaped as the format requires.
std::string prometheus_label(std::string_view value);

std::string render_metrics(const run_ledger& ledger, const live_stats& live,
                           const process_stats& process, wall_clock::time_point now);

}  // namespace restsync

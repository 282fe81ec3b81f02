#include "restsync/observe/run_counters.hpp"

namespace restsync {

run_counters& run_counters::operator+=(const run_counters& other) {
  pages += other.pages;
  records += other.records;
  inserted += other.inserted;
  updated += other.updated;
  unchanged += other.unchanged;
  filtered += other.filtered;
  deleted += other.deleted;
  rescans += other.rescans;
  requests += other.requests;
  for (const auto& [status, n] : other.responses_by_status) responses_by_status[status] += n;
  transport_errors += other.transport_errors;
  retries += other.retries;
  rate_limited += other.rate_limited;
  ignored += other.ignored;
  gate_wait_seconds += other.gate_wait_seconds;
  memory_wait_seconds += other.memory_wait_seconds;
  seconds += other.seconds;
  return *this;
}

}  // namespace restsync

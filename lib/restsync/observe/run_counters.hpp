// The one shape of a run's counts: what the engine counts, what a page
// write adds, what _rs_runs holds, what status and metrics show. Pure, so
// that store/ and observe/ both include it.
#pragma once

#include <cstdint>
#include <map>

namespace restsync {

// The counts of one run, of part of it (a page write), or (in the run
// ledger) of every run since start-up.
struct run_counters {
  std::int64_t pages = 0;
  std::int64_t records = 0;
  std::int64_t inserted = 0;
  std::int64_t updated = 0;
  std::int64_t unchanged = 0;
  // Records an incremental cursor or end_value left out.
  std::int64_t filtered = 0;
  // Rows marked deleted (or deleted, with hard_delete).
  std::int64_t deleted = 0;
  // Scans repeated because the data moved while the scan paged.
  std::int64_t rescans = 0;
  // Requests sent, retries included: each got a response (counted by its
  // HTTP status) or a transport error, so requests is the sum of the two.
  std::int64_t requests = 0;
  std::map<int, std::int64_t> responses_by_status;
  // No complete response: connection refused, timeout, reset, TLS failure,
  // a truncated or oversized body.
  std::int64_t transport_errors = 0;
  std::int64_t retries = 0;
  std::int64_t rate_limited = 0;  // 429s waited out
  // Responses that endpoint.response_actions ignores (each ended a scan).
  std::int64_t ignored = 0;
  double gate_wait_seconds = 0;    // waiting for the rate gate to let requests go
  double memory_wait_seconds = 0;  // waiting for room in client.memory_budget
  double seconds = 0;              // the run's wall time

  run_counters& operator+=(const run_counters& other);
};

}  // namespace restsync

// What one sync run of a resource did, as the engine reports it and the run
// ledger adds it up.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace restsync {

// The counts of one run, or (in the run ledger) of every run since start-up.
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
  std::int64_t rate_limited = 0;   // 429s waited out
  double gate_wait_seconds = 0;    // waiting for the rate gate to let requests go
  double memory_wait_seconds = 0;  // waiting for room in client.memory_budget
  double seconds = 0;              // the run's wall time

  run_counters& operator+=(const run_counters& other);
};

struct run_outcome {
  std::string resource;
  bool ok = false;
  std::string error;  // the first failure, with resource, path and status
  bool complete_scan = false;
  run_counters counts;
  // Why deletions were not marked after a complete scan that could have.
  std::string deletions_skipped;
  std::string cursor;  // the incremental cursor after the run; empty: none
};

}  // namespace restsync

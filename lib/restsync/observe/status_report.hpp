// `restsyncd status`: every resource's state as _rs_state and _rs_runs hold
// it, as a table for a person or JSON for scripts, and the staleness verdict
// that sets the command's exit status.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "restsync/observe/run_counters.hpp"

namespace restsync {

struct run_row {
  std::int64_t id = 0;
  std::string status;      // running, succeeded, failed, interrupted
  std::string started_at;  // ISO-8601 UTC, as all times here
  std::optional<std::string> finished_at;
  std::optional<double> seconds;
  // pages through rescans as _rs_runs holds them; the others stay 0.
  run_counters counts;
  bool complete_scan = false;
  std::optional<std::string> error;
  // Requests per second the shared rate gate allowed when the run ended
  // (client.rate_limit, or less as learned from 429s); 0: no limit.
  std::optional<double> gate_rate;
  // The daemon that ran it (daemon.instance); absent for `restsyncd sync`.
  std::optional<std::string> instance;
};

struct resource_status {
  std::string name;
  bool configured = true;  // false: in the database, no longer in the configuration
  std::optional<std::string> last_success_at;
  std::optional<double> age_seconds;  // since the last success
  std::optional<std::chrono::milliseconds> max_age;
  std::optional<std::string> last_error_at;
  std::optional<std::string> last_error;
  std::optional<std::string> last_complete_scan_at;
  std::optional<std::string> cursor;  // the incremental cursor, as stored
  // The daemon that holds the resource's lease now (it is running it).
  std::optional<std::string> lease_holder;
  std::optional<std::int64_t> rows;          // live rows in its table; absent: no table yet
  std::optional<std::int64_t> deleted_rows;  // rows marked _rs_deleted_at
  std::optional<run_row> last_run;
};

// Older than its max_age, or never succeeded while it has one.
bool is_stale(const resource_status& r);

// ok, stale, failing, running, never synced, not configured.
std::string_view state_of(const resource_status& r);

// The two largest units of a duration: `42s`, `3m12s`, `5h4m`, `2d3h`.
std::string format_age(double seconds);

// An aligned table, one line per resource, then the last error of each
// resource whose last run failed.
std::string format_status_table(const std::vector<resource_status>& resources,
                                std::string_view schema);

std::string format_status_json(const std::vector<resource_status>& resources,
                               std::string_view schema);

}  // namespace restsync

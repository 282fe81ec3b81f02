// What the daemon knows about each resource's runs since it started: the
// source of systemd's STATUS= line, of the metrics and of the warnings about
// resources that have not succeeded for longer than their max_age.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "restsync/config/config.hpp"
#include "restsync/observe/run_outcome.hpp"

namespace restsync {

using wall_clock = std::chrono::system_clock;

struct resource_record {
  std::string name;
  std::optional<std::chrono::milliseconds> max_age;
  bool running = false;
  std::optional<wall_clock::time_point> last_success;
  std::optional<wall_clock::time_point> last_finish;
  std::optional<run_outcome> last;
  int consecutive_failures = 0;
  bool stale_reported = false;
  // Totals since the daemon started.
  std::int64_t runs_succeeded = 0;
  std::int64_t runs_failed = 0;
  run_counters totals;
};

struct stale_resource {
  std::string name;
  std::chrono::milliseconds age;  // since the last success, or since start-up
  std::chrono::milliseconds max_age;
  bool never_succeeded = false;
};

class run_ledger {
 public:
  explicit run_ledger(wall_clock::time_point started_at) : started_at_(started_at) {}

  // The resources of the configuration in force, in its order; what is known
  // about those that stay is kept, those removed are forgotten.
  void configure(const config& cfg);

  // The last success PostgreSQL remembers from earlier processes.
  void remember_success(const std::string& name, wall_clock::time_point at);

  void started(const std::string& name);
  void finished(const std::string& name, const run_outcome& outcome, wall_clock::time_point now);
  void reloaded(bool ok) { ++(ok ? reloads_ok_ : reloads_failed_); }

  // Resources whose age passed their max_age and that were not reported yet;
  // each is reported once until it succeeds again. A resource that never
  // succeeded counts its age from the daemon's start.
  std::vector<stale_resource> take_newly_stale(wall_clock::time_point now);
  bool stale(const resource_record& r, wall_clock::time_point now) const;
  // When the next resource turns stale, if any may.
  std::optional<wall_clock::time_point> next_stale_at() const;

  // One line for systemd's STATUS=: counts of resources by state and the
  // failing ones by name.
  std::string status_line(wall_clock::time_point now) const;

  const std::vector<resource_record>& resources() const { return resources_; }
  const resource_record* find(const std::string& name) const;
  wall_clock::time_point started_at() const { return started_at_; }
  std::int64_t reloads_ok() const { return reloads_ok_; }
  std::int64_t reloads_failed() const { return reloads_failed_; }

 private:
  resource_record* find_mut(const std::string& name);
  std::chrono::milliseconds age(const resource_record& r, wall_clock::time_point now) const;

  wall_clock::time_point started_at_;
  std::vector<resource_record> resources_;
  std::int64_t reloads_ok_ = 0;
  std::int64_t reloads_failed_ = 0;
};

}  // namespace restsync

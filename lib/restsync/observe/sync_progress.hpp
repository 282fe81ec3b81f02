// The live progress of `restsyncd sync`: per resource, where its run is and
// what it has done so far, and what is left of it once the API reported a
// total. The engine feeds it (progress_sink), the sync command adds the
// gate's rate, render_progress reads it. Pure: time comes with the events.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "restsync/observe/progress_sink.hpp"

namespace restsync {

enum class run_state { queued, running, waiting, done, failed };

std::string_view to_string(run_state s);

struct resource_progress {
  using time_point = progress_sink::clock::time_point;

  std::string name;
  run_state state = run_state::queued;
  std::int64_t pages = 0;  // stored
  std::int64_t records = 0;
  std::int64_t requests = 0;  // sent, retries included
  // Records in the whole collection, as the API's latest page reported it.
  std::optional<std::int64_t> total;
  std::optional<time_point> started;
  std::optional<time_point> finished;
  // Requests of the run waiting to be tried again; the latest end of their
  // waits, and whether that wait follows a 429.
  int waits = 0;
  time_point wait_until{};
  bool rate_limited = false;
};

// What is left of a run whose size the API reported.
struct progress_estimate {
  std::int64_t pages_left = 0;
  // At the gate's current rate, which the resources still running share
  // round-robin (those of unknown size counted as running to the end), plus
  // what is left of a 429 pause. Absent when the gate has no limit.
  std::optional<std::chrono::milliseconds> time_left;
};

class sync_progress final : public progress_sink {
 public:
  // The resources of the sync, queued, in the order they are shown.
  explicit sync_progress(const std::vector<std::string>& resources);

  void run_started(std::string_view resource, clock::time_point now) override;
  void request_sent(std::string_view resource) override;
  void page_stored(std::string_view resource, std::int64_t records,
                   std::optional<std::int64_t> total) override;
  void wait_begun(std::string_view resource, clock::time_point until, bool rate_limited) override;
  void wait_ended(std::string_view resource) override;
  void run_finished(std::string_view resource, bool ok, clock::time_point now) override;

  // Requests per second the rate gate allows now; 0: no limit.
  void set_allowed_rate(double requests_per_second) { rate_ = requests_per_second; }
  double allowed_rate() const { return rate_; }

  const std::vector<resource_progress>& resources() const { return resources_; }
  // When the first run started.
  std::optional<clock::time_point> started() const;
  // The end of the latest 429 wait still to come: every request of the
  // process waits until then.
  std::optional<clock::time_point> paused_until(clock::time_point now) const;

  // What is left of resources()[i]: absent once its run ended, and while
  // its size is unknown.
  std::optional<progress_estimate> estimate(std::size_t i, clock::time_point now) const;
  // What is left of the whole sync: absent when a run that has not ended
  // has no estimate, or when every run ended.
  std::optional<progress_estimate> estimate_all(clock::time_point now) const;

 private:
  resource_progress& at(std::string_view name);
  std::optional<std::int64_t> pages_left(const resource_progress& r) const;
  std::optional<std::chrono::milliseconds> at_rate(double pages, clock::time_point now) const;

  std::vector<resource_progress> resources_;
  double rate_ = 0;
};

}  // namespace restsync

// What a run reports as it goes, for a person watching it: the engine calls
// these on its event loop when a sink is set (`restsyncd sync` on a
// terminal), and calls nothing when none is.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace restsync {

class progress_sink {
 public:
  using clock = std::chrono::steady_clock;

  virtual void run_started(std::string_view resource, clock::time_point now) = 0;
  // One HTTP request sent, retries included.
  virtual void request_sent(std::string_view resource) = 0;
  // One page stored: the records it held, and the total the API reported
  // (total_path), if it did.
  virtual void page_stored(std::string_view resource, std::int64_t records,
                           std::optional<std::int64_t> total) = 0;
  // A request waits until `until` before it is tried again: after a 429
  // (rate_limited; the whole gate waits with it) or after an error.
  virtual void wait_begun(std::string_view resource, clock::time_point until,
                          bool rate_limited) = 0;
  virtual void wait_ended(std::string_view resource) = 0;
  virtual void run_finished(std::string_view resource, bool ok, clock::time_point now) = 0;

 protected:
  ~progress_sink() = default;
};

}  // namespace restsync

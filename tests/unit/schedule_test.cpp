#include "restsync/service/schedule.hpp"

#include <doctest/doctest.h>

using namespace restsync;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

schedule_config every(std::chrono::milliseconds interval, std::chrono::milliseconds backoff = 30s,
                      std::chrono::milliseconds jitter = 0ms) {
  schedule_config s;
  s.interval = interval;
  s.failure_backoff = backoff;
  s.jitter = jitter;
  return s;
}

}  // namespace

TEST_CASE("after a success the next run starts one interval after the last start") {
  const auto t0 = steady::time_point{} + 1h;
  const auto s = every(15min);
  CHECK(next_run_at(s, t0, t0 + 20s, 0, 0.0) == t0 + 15min);
  CHECK(next_run_at(s, t0, t0 + 14min, 0, 0.99) == t0 + 15min);
}

TEST_CASE("a run longer than the interval is followed at once, never overlapped") {
  const auto t0 = steady::time_point{} + 1h;
  CHECK(next_run_at(every(1min), t0, t0 + 3min, 0, 0.0) == t0 + 3min);
  CHECK(next_run_at(every(1min), t0, t0 + 1min, 0, 0.0) == t0 + 1min);
}

TEST_CASE("jitter lengthens the wait by up to its value") {
  const auto t0 = steady::time_point{} + 1h;
  const auto s = every(10min, 30s, 60s);
  CHECK(next_run_at(s, t0, t0 + 1s, 0, 0.0) == t0 + 10min);
  CHECK(next_run_at(s, t0, t0 + 1s, 0, 0.5) == t0 + 10min + 30s);
  CHECK(next_run_at(s, t0, t0 + 1s, 0, 0.999) < t0 + 11min);
  CHECK(next_run_at(s, t0, t0 + 1s, 0, 0.999) > t0 + 10min + 59s);
  // Out-of-range randomness cannot push a run outside the window.
  CHECK(next_run_at(s, t0, t0 + 1s, 0, 7.0) == t0 + 11min);
  CHECK(next_run_at(s, t0, t0 + 1s, 0, -1.0) == t0 + 10min);
}

TEST_CASE("failures back off from failure_backoff, doubling, never beyond the interval") {
  const auto s = every(10min, 30s);
  CHECK(failure_delay(s, 1) == 30s);
  CHECK(failure_delay(s, 2) == 60s);
  CHECK(failure_delay(s, 3) == 120s);
  CHECK(failure_delay(s, 4) == 240s);
  CHECK(failure_delay(s, 5) == 480s);
  CHECK(failure_delay(s, 6) == 10min);
  CHECK(failure_delay(s, 1000) == 10min);
  const auto t0 = steady::time_point{} + 1h;
  CHECK(next_run_at(s, t0, t0 + 5s, 1, 0.0) == t0 + 30s);
  CHECK(next_run_at(s, t0, t0 + 5s, 3, 0.0) == t0 + 120s);
  // A backoff longer than the interval is the interval: a failed run is
  // retried on its next tick at the latest.
  const auto short_interval = every(10s, 30s);
  CHECK(failure_delay(short_interval, 1) == 10s);
  CHECK(next_run_at(short_interval, t0, t0 + 1s, 1, 0.0) == t0 + 10s);
}

TEST_CASE("the backoff doubling cannot overflow") {
  schedule_config s = every(std::chrono::milliseconds(std::chrono::hours(24 * 365 * 1000)), 1ms);
  CHECK(failure_delay(s, 1'000'000) == s.interval);
}

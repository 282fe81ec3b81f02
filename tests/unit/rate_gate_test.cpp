#include "restsync/flow/rate_gate.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;
using restsync::rate_gate;
using restsync::rate_gate_settings;
using time_point = rate_gate::time_point;

namespace {

const time_point t0 = time_point{} + 1000h;

// Exact spacing, so that grant times are round numbers; the margin has a
// test of its own.
rate_gate make_gate(double rps, std::optional<double> burst = std::nullopt) {
  return rate_gate{rate_gate_settings{rps, burst, 0}};
}

// Most grants seen in any closed window [t, t + width].
std::size_t max_in_window(std::vector<time_point> times, rate_gate::duration width) {
  std::sort(times.begin(), times.end());
  std::size_t best = 0;
  std::size_t j = 0;
  for (std::size_t i = 0; i < times.size(); ++i) {
    while (j < times.size() && times[j] <= times[i] + width) ++j;
    best = std::max(best, j - i);
  }
  return best;
}

// Queues `count` requests at t0 and polls exactly when told; returns grant times.
std::vector<time_point> drain(rate_gate& gate, std::size_t count, std::size_t resources = 1) {
  for (std::size_t i = 0; i < count; ++i) gate.enqueue(i % resources);
  std::vector<time_point> times;
  time_point now = t0;
  for (int polls = 0; gate.queued() > 0; ++polls) {
    REQUIRE(polls < 1'000'000);
    auto r = gate.poll(now);
    for (std::size_t i = 0; i < r.granted.size(); ++i) times.push_back(now);
    if (gate.queued() == 0) {
      CHECK_FALSE(r.wake_at);
      break;
    }
    REQUIRE(r.wake_at);
    REQUIRE(*r.wake_at > now);
    now = *r.wake_at;
  }
  return times;
}

}  // namespace

TEST_CASE("settings are validated; burst defaults to max(1, rate)") {
  CHECK_THROWS_AS(make_gate(-1), std::invalid_argument);
  CHECK_THROWS_AS(make_gate(std::numeric_limits<double>::infinity()), std::invalid_argument);
  CHECK_THROWS_AS(make_gate(std::nan("")), std::invalid_argument);
  CHECK_THROWS_AS(make_gate(1, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(make_gate(1, std::nan("")), std::invalid_argument);
  CHECK_NOTHROW(make_gate(0, 1));

  auto slow = make_gate(0.5);  // burst 1
  CHECK(drain(slow, 3) == std::vector<time_point>{t0, t0 + 2s, t0 + 4s});

  auto fast = make_gate(3);  // burst 3
  auto times = drain(fast, 4);
  CHECK(std::count(times.begin(), times.end(), t0) == 3);
  CHECK(times[3] - t0 >= 333'333'333ns);
  CHECK(times[3] - t0 < 333'333'335ns);
}

TEST_CASE("unlimited gate grants everything at once and asks for no wake-up") {
  auto gate = make_gate(0);
  CHECK(gate.unlimited());
  for (int i = 0; i < 50; ++i) gate.enqueue(i % 3);
  auto r = gate.poll(t0);
  CHECK(r.granted.size() == 50);
  CHECK_FALSE(r.wake_at);
  CHECK(gate.total_grants() == 50);
  CHECK(gate.poll(t0).granted.empty());
}

TEST_CASE("unlimited gate still honours the pause") {
  auto gate = make_gate(0);
  gate.pause_until(t0 + 5s);
  gate.enqueue(0);
  auto r = gate.poll(t0 + 1s);
  CHECK(r.granted.empty());
  CHECK(r.wake_at == t0 + 5s);
  CHECK(gate.poll(t0 + 5s).granted.size() == 1);
}

TEST_CASE("burst then steady rate, with exact wake-ups") {
  auto gate = make_gate(2, 5);
  for (int i = 0; i < 8; ++i) gate.enqueue(0);
  auto r = gate.poll(t0);
  CHECK(r.granted.size() == 5);
  REQUIRE(r.wake_at);
  CHECK(*r.wake_at == t0 + 500ms);

  // Polling early grants nothing and repeats the same wake-up.
  r = gate.poll(t0 + 499ms);
  CHECK(r.granted.empty());
  CHECK(r.wake_at == t0 + 500ms);

  r = gate.poll(t0 + 500ms);
  CHECK(r.granted.size() == 1);
  CHECK(r.wake_at == t0 + 1s);

  // A late poll finds only what accrued: one token per interval, no more.
  r = gate.poll(t0 + 1500ms);
  CHECK(r.granted.size() == 2);
  CHECK_FALSE(r.wake_at);
}

TEST_CASE("an idle gate refills to the burst and no further") {
  auto gate = make_gate(1, 3);
  for (int i = 0; i < 3; ++i) gate.enqueue(0);
  CHECK(gate.poll(t0).granted.size() == 3);
  for (int i = 0; i < 10; ++i) gate.enqueue(0);
  auto r = gate.poll(t0 + 1h);
  CHECK(r.granted.size() == 3);
  CHECK(r.wake_at == t0 + 1h + 1s);
}

TEST_CASE("10,000 requests at 2 rps never exceed rate + burst in any second") {
  for (double burst : {1.0, 2.0, 5.0}) {
    CAPTURE(burst);
    auto gate = make_gate(2, burst);
    auto times = drain(gate, 10'000, 3);
    REQUIRE(times.size() == 10'000);
    CHECK(max_in_window(times, 1s) <= static_cast<std::size_t>(2 + burst));
    // And it is not slower than the rate either: after the burst, one every 500 ms.
    const auto expected_end = t0 + (10'000 - static_cast<int>(burst)) * 500ms;
    CHECK(times.back() == expected_end);
    CHECK(gate.total_grants() == 10'000);
  }
}

TEST_CASE("awkward rates hold over long runs") {
  for (auto [rps, burst] : std::vector<std::pair<double, double>>{
           {3, 3}, {0.7, 1}, {1.0 / 3, 1.5}, {7.3, 2}, {1000, 1}}) {
    CAPTURE(rps);
    CAPTURE(burst);
    auto gate = make_gate(rps, burst);
    auto times = drain(gate, 3000);
    for (auto width : {1s, 10s, 100s}) {
      const double seconds = std::chrono::duration<double>(width).count();
      CHECK(static_cast<double>(max_in_window(times, width)) <= burst + rps * seconds + 1e-9);
    }
    const double span = std::chrono::duration<double>(times.back() - times.front()).count();
    // Rounding the interval up to a nanosecond costs at most 1 ns per request.
    // The k-th grant (from 0) comes (k + 1 - burst) intervals after the first.
    CHECK(span >= (3000 - burst) / rps - 1e-6);
    CHECK(span <= (3000 - burst) / rps + 3000e-9 + 1e-6);
  }
}

TEST_CASE("pause only extends and blocks everybody") {
  auto gate = make_gate(10, 10);
  gate.pause_until(t0 + 10s);
  gate.pause_until(t0 + 3s);  // earlier: ignored
  CHECK(gate.paused_until() == t0 + 10s);
  gate.pause_until(t0 + 12s);
  CHECK(gate.paused_until() == t0 + 12s);
  CHECK(gate.pauses() == 2);

  gate.enqueue(0);
  gate.enqueue(1);
  auto r = gate.poll(t0 + 11s);
  CHECK(r.granted.empty());
  CHECK(r.wake_at == t0 + 12s);

  // The end of the pause is exclusive; the bucket restarts with one token.
  r = gate.poll(t0 + 12s);
  CHECK(r.granted.size() == 1);
  CHECK(r.wake_at == t0 + 12s + 100ms);
  r = gate.poll(t0 + 12s + 100ms);
  CHECK(r.granted.size() == 1);
}

TEST_CASE("after a pause the bucket refills from one token") {
  auto gate = make_gate(1, 4);
  gate.pause_until(t0 + 5s);
  for (int i = 0; i < 6; ++i) gate.enqueue(0);
  auto r = gate.poll(t0 + 5s);
  CHECK(r.granted.size() == 1);
  CHECK(r.wake_at == t0 + 6s);
  // Waiting longer lets the bucket refill toward the burst as usual.
  r = gate.poll(t0 + 8s);
  CHECK(r.granted.size() == 3);
  CHECK(r.wake_at == t0 + 9s);
}

TEST_CASE("pause with an empty bucket: the later of pause end and next token wins") {
  auto gate = make_gate(0.1, 1);  // one token per 10 s
  gate.enqueue(0);
  CHECK(gate.poll(t0).granted.size() == 1);
  gate.enqueue(0);
  gate.pause_until(t0 + 2s);
  auto r = gate.poll(t0 + 1s);
  CHECK(r.granted.empty());
  CHECK(r.wake_at == t0 + 2s);
  // The pause is over but the bucket is still empty: wake at the token, not the pause.
  r = gate.poll(t0 + 2s);
  CHECK(r.granted.empty());
  CHECK(r.wake_at == t0 + 10s);
  CHECK(gate.poll(t0 + 10s).granted.size() == 1);
}

TEST_CASE("a pause set while requests wait cuts in between grants") {
  auto gate = make_gate(1, 1);
  for (int i = 0; i < 3; ++i) gate.enqueue(0);
  CHECK(gate.poll(t0).granted.size() == 1);
  gate.pause_until(t0 + 30s);
  auto r = gate.poll(t0 + 1s);
  CHECK(r.granted.empty());
  CHECK(r.wake_at == t0 + 30s);
  r = gate.poll(t0 + 30s);
  CHECK(r.granted.size() == 1);
  CHECK(r.wake_at == t0 + 31s);
}

TEST_CASE("fairness: a late resource with one request is served within one round") {
  auto gate = make_gate(1, 1);
  for (int i = 0; i < 100; ++i) gate.enqueue(0);
  auto r = gate.poll(t0);
  REQUIRE(r.granted.size() == 1);
  CHECK(r.granted[0].resource == 0);

  auto late = gate.enqueue(1);
  r = gate.poll(t0 + 1s);
  REQUIRE(r.granted.size() == 1);
  // Resource 0 had the head of the round; resource 1 is next at the latest.
  if (r.granted[0].resource == 0) {
    r = gate.poll(t0 + 2s);
    REQUIRE(r.granted.size() == 1);
  }
  CHECK(r.granted[0] == late);
}

TEST_CASE("fairness: round-robin across resources, FIFO within one") {
  auto gate = make_gate(0);
  std::map<std::size_t, std::vector<std::uint64_t>> issued;
  for (int i = 0; i < 30; ++i) issued[0].push_back(gate.enqueue(0).id);
  for (int i = 0; i < 3; ++i) issued[1].push_back(gate.enqueue(1).id);
  issued[2].push_back(gate.enqueue(2).id);
  auto r = gate.poll(t0);
  REQUIRE(r.granted.size() == 34);
  std::vector<std::size_t> order;
  for (auto& t : r.granted) order.push_back(t.resource);
  CHECK(std::vector<std::size_t>(order.begin(), order.begin() + 7) ==
        std::vector<std::size_t>{0, 1, 2, 0, 1, 0, 1});
  CHECK(std::all_of(order.begin() + 7, order.end(), [](std::size_t x) { return x == 0; }));
  std::map<std::size_t, std::vector<std::uint64_t>> got;
  for (auto& t : r.granted) got[t.resource].push_back(t.id);
  CHECK(got == issued);
}

TEST_CASE("fairness under a rate: with k busy resources each gets every k-th grant") {
  auto gate = make_gate(5, 1);
  for (std::size_t res = 0; res < 3; ++res)
    for (int i = 0; i < 20; ++i) gate.enqueue(res);
  std::vector<std::size_t> order;
  time_point now = t0;
  while (gate.queued() > 0) {
    auto r = gate.poll(now);
    for (auto& t : r.granted) order.push_back(t.resource);
    if (r.wake_at) now = *r.wake_at;
  }
  REQUIRE(order.size() == 60);
  for (std::size_t i = 0; i < order.size(); ++i) CHECK(order[i] == i % 3);
}

TEST_CASE("total_grants counts every grant") {
  auto gate = make_gate(1, 1);
  gate.enqueue(0);
  gate.enqueue(0);
  gate.enqueue(1);
  time_point now = t0;
  while (gate.queued() > 0) {
    auto r = gate.poll(now);
    if (r.wake_at) now = *r.wake_at;
  }
  CHECK(gate.total_grants() == 3);
  CHECK(now == t0 + 2s);
}

TEST_CASE("randomised: never a busy loop, never over the rate, never during a pause") {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    const double rps = std::uniform_real_distribution<double>(0.2, 20)(rng);
    const double burst = std::uniform_real_distribution<double>(1, 6)(rng);
    CAPTURE(rps);
    CAPTURE(burst);
    auto gate = make_gate(rps, burst);

    std::vector<time_point> grants;
    std::optional<time_point> paused_until;
    std::vector<rate_gate::ticket> waiting;
    time_point now = t0;
    std::optional<time_point> wake;
    for (int step = 0; step < 5000; ++step) {
      const int what = std::uniform_int_distribution<int>(0, 9)(rng);
      if (what < 4) {
        waiting.push_back(gate.enqueue(std::uniform_int_distribution<std::size_t>(0, 4)(rng)));
      } else if (what == 5) {
        auto until =
            now + std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 5000)(rng));
        gate.pause_until(until);
        if (!paused_until || until > *paused_until) paused_until = until;
      }
      auto r = gate.poll(now);
      for (auto& t : r.granted) {
        grants.push_back(now);
        auto it = std::find(waiting.begin(), waiting.end(), t);
        REQUIRE(it != waiting.end());  // only waiting tickets are granted
        waiting.erase(it);
      }
      if (!r.granted.empty() && paused_until) CHECK(now >= *paused_until);
      if (gate.queued() == 0) {
        CHECK_FALSE(r.wake_at);
      } else {
        REQUIRE(r.wake_at);
        CHECK(*r.wake_at > now);
      }
      wake = r.wake_at;
      // Advance either to the wake-up or to some random earlier moment.
      auto jump = std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 700)(rng));
      now = (wake && *wake < now + jump) ? *wake : now + jump;
    }
    CHECK(gate.queued() == waiting.size());
    for (auto width : {1s, 5s}) {
      const double seconds = std::chrono::duration<double>(width).count();
      CHECK(static_cast<double>(max_in_window(grants, width)) <= burst + rps * seconds + 1e-9);
    }
  }
}

TEST_CASE("a refunded token serves the next request at once; never beyond the burst") {
  auto gate = make_gate(1);  // burst 1
  gate.enqueue(0);
  gate.enqueue(0);
  auto r = gate.poll(t0);
  CHECK(r.granted.size() == 1);
  CHECK(r.wake_at == t0 + 1s);
  // The granted request was withdrawn unsent: the next one need not wait.
  gate.refund(t0 + 10ms);
  r = gate.poll(t0 + 10ms);
  CHECK(r.granted.size() == 1);
  CHECK(gate.refunds() == 1);

  // Refunds on a full bucket do not raise it past the burst.
  auto idle = make_gate(1);
  idle.refund(t0);
  idle.refund(t0);
  for (int i = 0; i < 3; ++i) idle.enqueue(0);
  r = idle.poll(t0);
  CHECK(r.granted.size() == 1);
  CHECK(r.wake_at == t0 + 1s);
}

TEST_CASE("adaptive: a 429 slows the gate once per slowdown, to one request at a time") {
  auto gate = make_gate(10);  // burst 10
  CHECK(gate.allowed_rate() == 10);
  CHECK_FALSE(gate.learned_rate());
  for (int i = 0; i < 10; ++i) gate.enqueue(0);
  CHECK(gate.poll(t0).granted.size() == 10);  // the configured burst
  // Every one of them is answered 429: one slowdown, not ten.
  for (int i = 0; i < 10; ++i) gate.on_rate_limited(t0, t0 + 100ms);
  CHECK(gate.slowdowns() == 1);
  REQUIRE(gate.learned_rate());
  CHECK(*gate.learned_rate() == doctest::Approx(7.0));
  gate.pause_until(t0 + 1s);
  // After the pause: one at a time, 1/7 s apart, no burst.
  auto times = drain(gate, 5);
  REQUIRE(times.size() == 5);
  CHECK(times[0] == t0 + 1s);
  for (std::size_t i = 1; i < times.size(); ++i) {
    const double gap = std::chrono::duration<double>(times[i] - times[i - 1]).count();
    CHECK(gap == doctest::Approx(1.0 / 7).epsilon(1e-6));
  }
  // A 429 to a request granted after the slowdown is news: slower again.
  gate.on_rate_limited(t0 + 1s, t0 + 1500ms);
  CHECK(gate.slowdowns() == 2);
  CHECK(*gate.learned_rate() == doctest::Approx(4.9));
}

TEST_CASE("adaptive: answers that are not 429s raise the rate back to the configured one") {
  auto gate = make_gate(2);
  gate.on_rate_limited(t0, t0);
  REQUIRE(gate.learned_rate());
  CHECK(*gate.learned_rate() == doctest::Approx(1.4));
  // About increase_per_second per second of answers at the learned rate.
  double seconds = 0;
  while (gate.learned_rate()) {
    seconds += 1 / *gate.learned_rate();
    gate.on_accepted(t0 + std::chrono::duration_cast<rate_gate::duration>(
                              std::chrono::duration<double>(seconds)));
    REQUIRE(seconds < 1000);
  }
  CHECK(seconds == doctest::Approx(0.6 / rate_gate::adapt::increase_per_second).epsilon(0.05));
  CHECK(gate.allowed_rate() == 2);  // never above the configured rate
  // Without a 429 nothing is learned.
  auto calm = make_gate(2);
  calm.on_accepted(t0);
  CHECK_FALSE(calm.learned_rate());
}

TEST_CASE("adaptive: without a limit of its own the gate learns from the last second's grants") {
  auto gate = make_gate(0);
  CHECK(gate.unlimited());
  for (int i = 0; i < 24; ++i) gate.enqueue(i % 3);
  CHECK(gate.poll(t0).granted.size() == 24);
  gate.on_rate_limited(t0, t0 + 50ms);
  REQUIRE(gate.learned_rate());
  CHECK(*gate.learned_rate() == doctest::Approx(24 * 0.7));
  CHECK_FALSE(gate.unlimited());
  // Repeated slowdowns reach an API that allows 1 request/s, and stop at
  // min_rate however often the API refuses.
  time_point now = t0 + 1s;
  for (int i = 0; i < 200; ++i, now += 1s) gate.on_rate_limited(now, now);
  CHECK(*gate.learned_rate() == doctest::Approx(rate_gate::adapt::min_rate));
  // Without a configured rate it grows without a ceiling while answers come.
  for (int i = 0; i < 100000 && *gate.learned_rate() < 3; ++i) gate.on_accepted(now);
  CHECK(*gate.learned_rate() >= 3);
}

TEST_CASE("requests are spaced a margin wider than the rate, never narrower") {
  // The default: 1% wider, so that arrivals that jitter by milliseconds
  // still keep to the server's rate.
  rate_gate gate{rate_gate_settings{1, 1}};
  auto times = drain(gate, 3);
  REQUIRE(times.size() == 3);
  CHECK(times[1] - times[0] == 1010ms);
  CHECK(times[2] - times[1] == 1010ms);
  CHECK_THROWS_AS((rate_gate{rate_gate_settings{1, 1, -0.1}}), std::invalid_argument);
  CHECK_THROWS_AS((rate_gate{rate_gate_settings{1, 1, std::nan("")}}), std::invalid_argument);
}

TEST_CASE("a request sent later than granted moves the next grant with it") {
  auto gate = make_gate(1);
  gate.enqueue(0);
  gate.enqueue(0);
  CHECK(gate.poll(t0).granted.size() == 1);
  // Its connection took 30 ms to open: the server sees it at t0 + 30 ms.
  gate.on_sent(t0 + 30ms);
  auto r = gate.poll(t0 + 1s);
  CHECK(r.granted.empty());
  CHECK(r.wake_at == t0 + 1030ms);
  CHECK(gate.poll(t0 + 1030ms).granted.size() == 1);
  // Sent at once: nothing moves.
  gate.on_sent(t0 + 1030ms);
  gate.enqueue(0);
  CHECK(gate.poll(t0 + 2030ms).granted.size() == 1);

  // No limit, nothing to move.
  auto open = make_gate(0);
  open.on_sent(t0 + 1h);
  open.enqueue(0);
  CHECK(open.poll(t0).granted.size() == 1);
}

TEST_CASE("adaptive: a 429 after answers backs off to just under the rate the API took") {
  // Our limit is 10, the API's 1 request/s: answers a second apart, then a 429.
  auto gate = make_gate(10);
  for (int i = 0; i <= 5; ++i) gate.on_accepted(t0 + i * 1s);
  gate.on_rate_limited(t0 + 5s, t0 + 5500ms);
  REQUIRE(gate.learned_rate());
  // 90% of 1/s in one step, not 7, 4.9, 3.4, … one 429 each.
  CHECK(*gate.learned_rate() == doctest::Approx(0.9));
  CHECK(gate.slowdowns() == 1);

  // Climbing back, it slows down within 5% of that rate: about a tenth of
  // increase_per_second from 0.95 on.
  double seconds = 0;
  time_point now = t0 + 6s;
  while (*gate.learned_rate() < 0.95) {
    seconds += 1 / *gate.learned_rate();
    gate.on_accepted(now);
    REQUIRE(seconds < 100);
  }
  CHECK(seconds < 2 * 0.05 / rate_gate::adapt::increase_per_second);  // ~2.5 s, in steps of ~1 s
  double slow = 0;
  while (*gate.learned_rate() < 1.0) {
    slow += 1 / *gate.learned_rate();
    gate.on_accepted(now);
    REQUIRE(slow < 1000);
  }
  CHECK(slow > 5 * seconds);

  // One answer just before a burst of 429s reads as one a second.
  auto burst = make_gate(0);
  for (int i = 0; i < 9; ++i) burst.enqueue(i);
  CHECK(burst.poll(t0).granted.size() == 9);
  burst.on_accepted(t0 + 10ms);
  burst.on_rate_limited(t0, t0 + 20ms);
  CHECK(*burst.learned_rate() == doctest::Approx(0.9));
}

TEST_CASE("set_configured_rate: a daemon's share of the key's rate, the burst scaled with it") {
  auto gate = make_gate(4, 4);
  gate.set_configured_rate(4.0 / 3);
  CHECK(gate.allowed_rate() == doctest::Approx(4.0 / 3));
  // 9 requests at 4/3 a second (0.75 s apart), with a burst of 4 · 1/3: the
  // second may come a third of an interval early, so 8 intervals less 0.25 s.
  auto times = drain(gate, 9);
  REQUIRE(times.size() == 9);
  CHECK(std::chrono::duration<double>(times.back() - times.front()).count() ==
        doctest::Approx(5.75).epsilon(0.001));
  CHECK(max_in_window(times, std::chrono::milliseconds(999)) == 2);
  // Back to the whole rate.
  gate.set_configured_rate(4);
  CHECK(gate.allowed_rate() == 4);
  // An unlimited gate stays unlimited.
  auto open = make_gate(0);
  open.set_configured_rate(1);
  CHECK(open.allowed_rate() == 0);
}

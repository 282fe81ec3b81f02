#include "restsync/paging/offset_scan.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using restsync::offset_scan;
using restsync::offset_scan_settings;

namespace {

using i64 = std::int64_t;

offset_scan_settings settings(i64 limit, std::size_t window, i64 start = 0,
                              std::optional<i64> maximum_offset = std::nullopt) {
  offset_scan_settings s;
  s.start = start;
  s.limit = limit;
  s.window = window;
  s.maximum_offset = maximum_offset;
  return s;
}

// For servers whose pages vary in size: only an empty page (or a total, or
// maximum_offset) ends the scan.
offset_scan_settings confirming(offset_scan_settings s) {
  s.short_page_ends = false;
  return s;
}

offset_scan_settings knowing(offset_scan_settings s, i64 page) {
  s.known_page = page;
  return s;
}

std::vector<i64> drain_requests(offset_scan& scan) {
  std::vector<i64> out;
  while (auto o = scan.next_request()) out.push_back(*o);
  return out;
}

// A server over unchanging data: `records` records, pages capped by cap(offset) (>= 1).
struct server {
  i64 records = 0;
  i64 limit = 50;
  std::function<i64(i64)> cap = [](i64) { return std::numeric_limits<i64>::max(); };
  i64 answer(i64 offset) const {
    if (offset >= records) return 0;
    return std::min({cap(offset), limit, records - offset});
  }
};

enum class order { random, fifo, lifo };

struct run {
  std::vector<i64> requests;
  bool complete = false;
  i64 contiguous_end = 0;
  restsync::offset_scan_drift drift;
  restsync::offset_scan_stats stats;
  std::optional<i64> step;
};

// Drives a scan against the server, delivering answers in the given order,
// and checks the invariants after every event. The reported total, if any,
// comes with every page.
// With withdrawals, each request is offered for withdrawal before it is
// answered, as the engine does after the rate gate grants it.
run simulate(const offset_scan_settings& s, const server& srv, std::uint32_t seed, order how,
             std::optional<i64> total = std::nullopt, bool withdrawals = false) {
  offset_scan scan(s);
  std::mt19937 rng(seed);
  run r;
  std::set<i64> asked;
  std::vector<i64> in_flight;
  // The test's own view of what the scan has seen, from answers it accepted.
  std::vector<char> seen(static_cast<std::size_t>(srv.records), 0);
  const i64 end_of_data = std::min(srv.records, s.maximum_offset.value_or(srv.records));
  // Complete means every record before the end the scan may trust was seen:
  // the data's end, maximum_offset, or a low total that no record contradicted.
  auto full_coverage = [&] {
    i64 end = end_of_data;
    if (total && *total < end && !scan.drift().records_past_total) end = *total;
    for (i64 p = std::min(s.start, end); p < end; ++p) {
      if (!seen[static_cast<std::size_t>(p)]) return false;
    }
    return true;
  };
  auto model_contiguous_end = [&] {
    i64 p = s.start;
    while (p < srv.records && seen[static_cast<std::size_t>(p)]) ++p;
    return p;
  };

  const std::size_t max_events = static_cast<std::size_t>(srv.records) * 4 + 1000;
  for (std::size_t event = 0;; ++event) {
    REQUIRE(event < max_events);  // terminates
    // Sometimes the driver issues one request only, as a slow driver would.
    const bool fill = std::uniform_int_distribution<int>(0, 3)(rng) != 0;
    while (auto o = scan.next_request()) {
      const bool was_done = scan.done();
      CHECK_FALSE(was_done);
      CHECK(asked.insert(*o).second);  // never the same offset twice
      CHECK(*o >= s.start);
      if (s.maximum_offset) CHECK(*o < *s.maximum_offset);
      if (total && *total == srv.records && *o != s.start) CHECK(*o < srv.records);
      r.requests.push_back(*o);
      in_flight.push_back(*o);
      CHECK(in_flight.size() <= s.window);
      CHECK(scan.in_flight() == in_flight.size());
      // The first request goes alone.
      if (r.requests.size() == 1) CHECK_FALSE(scan.next_request());
      if (!fill) break;
    }
    if (in_flight.empty()) break;

    std::size_t pick = 0;
    if (how == order::random) {
      pick = std::uniform_int_distribution<std::size_t>(0, in_flight.size() - 1)(rng);
    } else if (how == order::lifo) {
      pick = in_flight.size() - 1;
    }
    const i64 o = in_flight[pick];
    in_flight.erase(in_flight.begin() + static_cast<std::ptrdiff_t>(pick));
    if (withdrawals && scan.withdraw_if_unneeded(o)) {
      // Only what lies at or past the end, anything once done, or what lies
      // past a short page whose end is being asked, is withdrawn.
      CHECK((scan.done() || (scan.known_end() && o >= *scan.known_end()) ||
             o > scan.contiguous_end()));
      asked.erase(o);
      r.requests.erase(std::find(r.requests.begin(), r.requests.end(), o));
      continue;
    }
    const i64 n = srv.answer(o);
    const bool accepted = !scan.done();
    scan.on_page(o, n, total);
    if (accepted) {
      for (i64 p = o; p < o + n; ++p) seen[static_cast<std::size_t>(p)] = 1;
      CHECK(scan.contiguous_end() == model_contiguous_end());
    }
    // Complete only after full coverage.
    if (scan.complete()) CHECK(full_coverage());
    CHECK_FALSE(scan.failed());
  }
  CHECK(scan.in_flight() == 0);
  CHECK_FALSE(scan.next_request());
  r.complete = scan.complete();
  r.contiguous_end = scan.contiguous_end();
  r.drift = scan.drift();
  r.stats = scan.stats();
  r.step = scan.step();
  return r;
}

i64 count_at_or_past(const std::vector<i64>& requests, i64 end) {
  return std::count_if(requests.begin(), requests.end(), [&](i64 o) { return o >= end; });
}

i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }

// A cap that varies with the offset, deterministically, in [1, c].
std::function<i64(i64)> varying_cap(i64 c, std::uint32_t salt) {
  return [c, salt](i64 offset) {
    std::uint64_t h = static_cast<std::uint64_t>(offset) * 0x9E3779B97F4A7C15ULL + salt;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return 1 + static_cast<i64>(h % static_cast<std::uint64_t>(c));
  };
}

}  // namespace

TEST_CASE("settings are validated") {
  CHECK_THROWS_AS(offset_scan(settings(0, 1)), std::invalid_argument);
  CHECK_THROWS_AS(offset_scan(settings(10, 0)), std::invalid_argument);
  CHECK_THROWS_AS(offset_scan(settings(10, 1, -1)), std::invalid_argument);
}

TEST_CASE("the first request goes alone and teaches the step") {
  offset_scan scan(settings(50, 4));
  CHECK(drain_requests(scan) == std::vector<i64>{0});
  CHECK_FALSE(scan.step());
  scan.on_page(0, 25);  // capped at 25 for a limit of 50, or the last page?
  CHECK(scan.step() == 25);
  // Short: only its end is asked until records there prove a cap.
  CHECK(drain_requests(scan) == std::vector<i64>{25});
  scan.on_page(25, 25);
  CHECK(drain_requests(scan) == std::vector<i64>{50, 75, 100, 125});
  CHECK(scan.in_flight() == 4);
  CHECK(scan.contiguous_end() == 50);
}

TEST_CASE("a full first page opens the window at once") {
  offset_scan scan(settings(25, 4));
  drain_requests(scan);
  scan.on_page(0, 25);
  CHECK(drain_requests(scan) == std::vector<i64>{25, 50, 75, 100});
}

TEST_CASE("a resource smaller than one page costs two requests whatever the window") {
  offset_scan scan(settings(50, 8));
  CHECK(drain_requests(scan) == std::vector<i64>{0});
  scan.on_page(0, 7);
  CHECK(drain_requests(scan) == std::vector<i64>{7});
  scan.on_page(7, 0);
  CHECK(scan.complete());
  CHECK(scan.stats().requests == 2);
}

TEST_CASE("speculation pauses at a short page and resumes when it proves capped") {
  offset_scan scan(confirming(settings(20, 3)));
  drain_requests(scan);
  scan.on_page(0, 20);
  CHECK(drain_requests(scan) == std::vector<i64>{20, 40, 60});
  scan.on_page(20, 20);
  scan.on_page(40, 20);
  scan.on_page(60, 8);  // short, furthest: probably the end
  CHECK(drain_requests(scan) == std::vector<i64>{68});
  scan.on_page(68, 8);  // records past it: the server caps at 8
  CHECK(scan.step() == 8);
  CHECK(drain_requests(scan) == std::vector<i64>{76, 84, 92});
}

TEST_CASE("a page shorter than one the scan was served ends it: no request confirms it") {
  // 75 records, a limit of 50, window 4: the first page is full, so the
  // page of 25 after it is the last one.
  offset_scan scan(settings(50, 4));
  drain_requests(scan);
  scan.on_page(0, 50);
  CHECK(drain_requests(scan) == std::vector<i64>{50, 100, 150, 200});
  scan.on_page(50, 25);
  CHECK(scan.complete());
  CHECK(scan.soft_end());
  CHECK(scan.known_end() == 75);
  CHECK(scan.contiguous_end() == 75);
  // Those still waiting at the gate are withdrawn unsent.
  CHECK(scan.withdraw_if_unneeded(100));
  CHECK(scan.withdraw_if_unneeded(150));
  CHECK(scan.withdraw_if_unneeded(200));
  CHECK(scan.stats().requests - scan.stats().withdrawn == 2);
  CHECK(scan.proven_page() == 50);
}

TEST_CASE("a short first page proves nothing, whatever an earlier scan learnt") {
  // Fewer records than the limit: the end, or a cap. Its end is asked.
  offset_scan scan(settings(50, 4));
  drain_requests(scan);
  scan.on_page(0, 3);
  CHECK_FALSE(scan.complete());
  CHECK(drain_requests(scan) == std::vector<i64>{3});
  scan.on_page(3, 0);
  CHECK(scan.complete());
  CHECK_FALSE(scan.soft_end());
  CHECK_FALSE(scan.proven_page());  // one short page shows no page size

  // An earlier scan saw pages of 25: a first page of 20 is still confirmed
  // (the resource shrank to one page, or the cap shrank to 20).
  offset_scan known(knowing(settings(50, 4), 25));
  drain_requests(known);
  known.on_page(0, 20);
  CHECK_FALSE(known.complete());
  CHECK(drain_requests(known) == std::vector<i64>{20});
  known.on_page(20, 20);  // it was the cap
  CHECK(known.step() == 20);
  CHECK(drain_requests(known) == std::vector<i64>{40, 60, 80, 100});
}

TEST_CASE("a page size learnt in an earlier scan opens the window at the first page") {
  offset_scan scan(knowing(settings(50, 4), 25));
  drain_requests(scan);
  scan.on_page(0, 25);  // the cap an earlier scan proved
  CHECK(scan.step() == 25);
  CHECK(drain_requests(scan) == std::vector<i64>{25, 50, 75, 100});
  scan.on_page(25, 25);
  scan.on_page(50, 25);
  scan.on_page(75, 5);  // shorter than 25: the end
  CHECK(scan.complete());
  CHECK(scan.soft_end());
  CHECK(scan.contiguous_end() == 80);
  CHECK(scan.proven_page() == 25);

  // A cap switched on since: the first page is short against what was
  // learnt (the limit), so it is confirmed, and the new cap learnt.
  offset_scan on(knowing(settings(50, 4), 50));
  drain_requests(on);
  on.on_page(0, 25);
  CHECK(drain_requests(on) == std::vector<i64>{25});
  on.on_page(25, 25);
  CHECK(on.proven_page() == 25);
  CHECK_FALSE(on.drift().page_sizes_vary);

  // A cap lifted since: a full page teaches the limit.
  offset_scan off(knowing(settings(50, 4), 25));
  drain_requests(off);
  off.on_page(0, 50);
  CHECK(off.step() == 50);
  CHECK(off.proven_page() == 50);
}

TEST_CASE("records past a short page that followed a longer one: page sizes vary") {
  offset_scan scan(settings(50, 3));
  drain_requests(scan);
  scan.on_page(0, 50);
  CHECK(drain_requests(scan) == std::vector<i64>{50, 100, 150});
  scan.on_page(100, 20);  // [100, 120), shorter than 50: the end, softly
  CHECK(scan.known_end() == 120);
  CHECK(drain_requests(scan).empty());  // its end is not asked
  scan.on_page(150, 30);                // records past it
  CHECK(scan.drift().page_sizes_vary);
  CHECK_FALSE(scan.drift().any());  // not movement
  CHECK_FALSE(scan.proven_page());
  // From here on only an empty page ends the scan.
  CHECK_FALSE(scan.known_end());
  CHECK(drain_requests(scan) == std::vector<i64>{120, 180});
  scan.on_page(50, 50);
  scan.on_page(120, 20);  // [120, 140): short again, and not the end
  CHECK_FALSE(scan.complete());
  CHECK(drain_requests(scan) == std::vector<i64>{140, 200});
  scan.on_page(140, 10);
  CHECK_FALSE(scan.complete());
  scan.on_page(180, 0);  // an empty page at the end of coverage
  scan.on_page(200, 0);
  CHECK(scan.complete());
  CHECK_FALSE(scan.soft_end());
}

TEST_CASE("records after a soft end are drift, and show that page sizes vary") {
  offset_scan scan(settings(50, 3));
  drain_requests(scan);
  scan.on_page(0, 50);
  CHECK(drain_requests(scan) == std::vector<i64>{50, 100, 150});
  scan.on_page(50, 30);
  CHECK(scan.complete());
  CHECK(scan.soft_end());
  scan.on_page(100, 50);  // sent before the end was known; records there
  CHECK(scan.drift().records_after_end == 50);
  CHECK(scan.drift().page_sizes_vary);
  CHECK(scan.drift().any());
}

TEST_CASE("empty first page: complete after one request") {
  offset_scan scan(settings(50, 8));
  CHECK(drain_requests(scan) == std::vector<i64>{0});
  scan.on_page(0, 0);
  CHECK(scan.complete());
  CHECK(scan.contiguous_end() == 0);
  CHECK_FALSE(scan.next_request());
  CHECK(scan.stats().requests == 1);
}

TEST_CASE("sequential scan with a silent cap: short pages are not the end") {
  offset_scan scan(settings(50, 1));
  std::vector<i64> asked;
  server srv{110, 50, [](i64) { return i64{25}; }};
  while (auto o = scan.next_request()) {
    asked.push_back(*o);
    scan.on_page(*o, srv.answer(*o));
  }
  // 10 records after pages of 25: the last page; nothing confirms it.
  CHECK(asked == std::vector<i64>{0, 25, 50, 75, 100});
  CHECK(scan.complete());
  CHECK(scan.soft_end());
  CHECK(scan.contiguous_end() == 110);
  CHECK(scan.proven_page() == 25);

  // Without short_page_ends, the end is asked.
  offset_scan confirmed(confirming(settings(50, 1)));
  asked.clear();
  while (auto o = confirmed.next_request()) {
    asked.push_back(*o);
    confirmed.on_page(*o, srv.answer(*o));
  }
  CHECK(asked == std::vector<i64>{0, 25, 50, 75, 100, 110});
  CHECK(confirmed.complete());
  CHECK_FALSE(confirmed.soft_end());
}

TEST_CASE("confirming: a short last page needs its end asked, even after an empty page past it") {
  offset_scan scan(confirming(settings(50, 4)));
  drain_requests(scan);
  scan.on_page(0, 25);
  CHECK(drain_requests(scan) == std::vector<i64>{25});
  scan.on_page(25, 25);
  CHECK(drain_requests(scan) == std::vector<i64>{50, 75, 100, 125});
  scan.on_page(50, 25);
  scan.on_page(75, 25);
  CHECK(drain_requests(scan) == std::vector<i64>{150, 175});
  scan.on_page(125, 0);  // the empty speculative page arrives first
  CHECK_FALSE(scan.complete());
  CHECK(scan.known_end() == 125);
  CHECK(drain_requests(scan).empty());  // nothing past the known end
  scan.on_page(100, 10);                // short: [100, 110)
  CHECK_FALSE(scan.complete());
  CHECK(drain_requests(scan) == std::vector<i64>{110});
  scan.on_page(110, 0);
  CHECK(scan.complete());
  CHECK(scan.contiguous_end() == 110);
  // Stragglers past the end are accepted and ignored.
  scan.on_page(150, 0);
  scan.on_page(175, 0);
  CHECK(scan.stats().late_answers == 2);
  CHECK(scan.in_flight() == 0);
  CHECK_FALSE(scan.drift().any());
}

TEST_CASE("data ending on a page boundary needs no extra confirmation") {
  offset_scan scan(settings(25, 2));
  drain_requests(scan);
  scan.on_page(0, 25);
  CHECK(drain_requests(scan) == std::vector<i64>{25, 50});
  scan.on_page(25, 25);
  CHECK(drain_requests(scan) == std::vector<i64>{75});
  scan.on_page(50, 0);
  CHECK(scan.complete());
  CHECK(scan.stats().requests == 4);
}

TEST_CASE("a hole left by a capped page is requested again and the step shrinks") {
  offset_scan scan(confirming(settings(50, 3)));
  drain_requests(scan);
  scan.on_page(0, 50);
  CHECK(scan.step() == 50);
  CHECK(drain_requests(scan) == std::vector<i64>{50, 100, 150});
  scan.on_page(100, 20);     // capped: [100, 120)
  CHECK(scan.step() == 50);  // not proven capped yet: it may be the last page
  CHECK(drain_requests(scan) == std::vector<i64>{120});
  scan.on_page(150, 30);  // records past 120 prove page 100 was capped
  CHECK(scan.step() == 20);
  scan.on_page(50, 50);
  CHECK(scan.contiguous_end() == 120);
  // The hole [120, 150) is in flight; speculation continues at the new step.
  CHECK(drain_requests(scan) == std::vector<i64>{180, 200});
  scan.on_page(120, 20);  // [120, 140): another hole [140, 150)
  CHECK(drain_requests(scan) == std::vector<i64>{140});
  CHECK(scan.stats().refills >= 1);
}

TEST_CASE("a hole is asked at once unless a request in flight can still reach it") {
  offset_scan scan(settings(50, 4));
  drain_requests(scan);
  scan.on_page(0, 25);
  drain_requests(scan);  // 25
  scan.on_page(25, 25);  // the cap is 25
  CHECK(drain_requests(scan) == std::vector<i64>{50, 75, 100, 125});
  scan.on_page(100, 25);
  CHECK(drain_requests(scan) == std::vector<i64>{150});
  // [75, 85) leaves the hole [85, 100). Page 50 is in flight, but no page so
  // far was longer than 25, so it will not reach 85: ask now rather than
  // waiting a round trip on the limit (50) it could in theory return.
  scan.on_page(75, 10);
  CHECK(drain_requests(scan) == std::vector<i64>{85});
}

TEST_CASE("out-of-order arrival: the last speculative page first") {
  offset_scan scan(settings(10, 5));
  drain_requests(scan);
  scan.on_page(0, 10);
  auto asked = drain_requests(scan);
  REQUIRE(asked == std::vector<i64>{10, 20, 30, 40, 50});
  scan.on_page(50, 0);
  scan.on_page(40, 10);
  scan.on_page(30, 10);
  CHECK(scan.contiguous_end() == 10);
  CHECK_FALSE(scan.complete());
  scan.on_page(20, 10);
  CHECK_FALSE(scan.complete());
  scan.on_page(10, 10);
  CHECK(scan.complete());
  CHECK(scan.contiguous_end() == 50);
  CHECK(scan.stats().requests == 6);
}

TEST_CASE("a reported total stops the scan early and bounds speculation") {
  offset_scan scan(settings(50, 4));
  drain_requests(scan);
  scan.on_page(0, 25, 110);
  CHECK(scan.known_end() == 110);
  CHECK(drain_requests(scan) == std::vector<i64>{25});
  scan.on_page(25, 25, 110);
  CHECK(drain_requests(scan) == std::vector<i64>{50, 75, 100});
  scan.on_page(100, 10, 110);
  scan.on_page(75, 25, 110);
  CHECK(drain_requests(scan).empty());
  scan.on_page(50, 25, 110);
  CHECK(scan.complete());  // no empty page needed
  CHECK(scan.stats().requests == 5);
  CHECK_FALSE(scan.drift().any());
}

TEST_CASE("a total that records contradict is dropped; the scan goes on to an empty page") {
  offset_scan scan(settings(50, 2));
  drain_requests(scan);
  scan.on_page(0, 25, 40);                              // says 40 records
  CHECK(drain_requests(scan) == std::vector<i64>{25});  // nothing at or past 40
  scan.on_page(25, 25, 40);                             // but [25, 50) has records
  CHECK(scan.drift().records_past_total);
  CHECK_FALSE(scan.complete());
  CHECK_FALSE(scan.known_end());
  CHECK(drain_requests(scan) == std::vector<i64>{50, 75});
  scan.on_page(75, 0, 40);
  CHECK_FALSE(scan.complete());
  scan.on_page(50, 5, 40);  // shorter than the pages of 25 before it: the end
  CHECK(scan.complete());
  CHECK(scan.soft_end());
  CHECK(scan.contiguous_end() == 55);
}

TEST_CASE("a wrong-low total that nothing contradicts is trusted") {
  // Documented limit: a server that under-reports on a page boundary loses
  // the tail, exactly as a sequential scan that trusts the total would.
  offset_scan scan(settings(25, 4));
  drain_requests(scan);
  scan.on_page(0, 25, 50);
  CHECK(drain_requests(scan) == std::vector<i64>{25});
  scan.on_page(25, 25, 50);
  CHECK(scan.complete());
  CHECK_FALSE(scan.drift().any());
}

TEST_CASE("a total that changes during the scan is reported; the largest one counts") {
  offset_scan scan(settings(10, 3));
  drain_requests(scan);
  scan.on_page(0, 10, 30);
  CHECK(drain_requests(scan) == std::vector<i64>{10, 20});
  scan.on_page(10, 10, 40);
  CHECK(scan.drift().total_changed);
  CHECK(scan.known_end() == 40);
  CHECK(drain_requests(scan) == std::vector<i64>{30});
  scan.on_page(20, 10, 35);
  scan.on_page(30, 10, 35);
  CHECK(scan.complete());
  CHECK(scan.contiguous_end() == 40);
}

TEST_CASE("maximum_offset bounds requests and completes the scan") {
  offset_scan scan(settings(10, 8, 0, 35));
  drain_requests(scan);
  scan.on_page(0, 10);
  CHECK(drain_requests(scan) == std::vector<i64>{10, 20, 30});
  scan.on_page(30, 10);
  scan.on_page(20, 10);
  CHECK_FALSE(scan.complete());
  scan.on_page(10, 10);
  CHECK(scan.complete());

  offset_scan nothing(settings(10, 1, 50, 50));
  CHECK(nothing.complete());
  CHECK_FALSE(nothing.next_request());
}

TEST_CASE("a scan starting past zero covers from its start") {
  offset_scan scan(settings(10, 2, 100));
  CHECK(drain_requests(scan) == std::vector<i64>{100});
  CHECK(scan.contiguous_end() == 100);
  scan.on_page(100, 10);
  CHECK(drain_requests(scan) == std::vector<i64>{110, 120});
  scan.on_page(120, 0);
  scan.on_page(110, 3);  // shorter than the page of 10 at 100: the end
  CHECK(scan.complete());
  CHECK(scan.contiguous_end() == 113);
}

TEST_CASE("a failed request fails the scan and stops it") {
  offset_scan scan(settings(10, 3));
  drain_requests(scan);
  scan.on_page(0, 10);
  CHECK(drain_requests(scan) == std::vector<i64>{10, 20, 30});
  scan.on_page(10, 10);
  scan.on_failed(20);
  CHECK(scan.failed());
  CHECK_FALSE(scan.complete());
  CHECK(scan.failed_offset() == 20);
  CHECK_FALSE(scan.next_request());
  CHECK(scan.contiguous_end() == 20);  // what was seen stays usable for the cursor
  scan.on_page(30, 10);                // a straggler
  CHECK(scan.in_flight() == 0);
  CHECK(scan.stats().late_answers == 1);
  CHECK_FALSE(scan.complete());

  offset_scan first(settings(10, 3));
  drain_requests(first);
  first.on_failed(0);
  CHECK(first.failed());
  CHECK_FALSE(first.next_request());
}

TEST_CASE("a failure after completion changes nothing") {
  offset_scan scan(settings(10, 3));
  drain_requests(scan);
  scan.on_page(0, 10);
  drain_requests(scan);  // 10, 20, 30
  scan.on_page(10, 0);
  CHECK(scan.complete());
  scan.on_failed(20);
  CHECK(scan.complete());
  CHECK_FALSE(scan.failed());
}

TEST_CASE("driver bugs are logic errors") {
  offset_scan scan(settings(10, 3));
  CHECK_THROWS_AS(scan.on_page(0, 5), std::logic_error);  // not requested
  drain_requests(scan);
  CHECK_THROWS_AS(scan.on_page(0, -1), std::logic_error);
  scan.on_page(0, 10);
  CHECK_THROWS_AS(scan.on_page(0, 10), std::logic_error);  // answered twice
  CHECK_THROWS_AS(scan.on_failed(999), std::logic_error);
  drain_requests(scan);  // 10, 20, 30
  CHECK_THROWS_AS(scan.on_page(10, std::numeric_limits<i64>::max()), std::logic_error);
}

TEST_CASE("drift: records seen past an offset that answered empty") {
  // Records removed at the front while the scan pages: page 20 answers
  // before the removal, page 10 after, and the tail shifted out of reach.
  offset_scan scan(settings(10, 3));
  drain_requests(scan);
  scan.on_page(0, 10);
  drain_requests(scan);  // 10, 20, 30
  scan.on_page(20, 10);  // [20, 30), before the removal
  scan.on_page(30, 0);
  scan.on_page(10, 5);  // [10, 15), after 15 records vanished
  CHECK(drain_requests(scan) == std::vector<i64>{15});
  scan.on_page(15, 0);
  CHECK(scan.drift().records_past_empty);
  // The server says nothing is at 15: the scan completes, and the drift flag
  // tells the deletion logic not to trust absences from it.
  CHECK(scan.complete());
  CHECK(scan.drift().any());
}

TEST_CASE("drift: records arriving after completion, and an empty page below the total") {
  offset_scan scan(settings(10, 3));
  drain_requests(scan);
  scan.on_page(0, 10);
  drain_requests(scan);  // 10, 20, 30
  scan.on_page(10, 0);
  CHECK(scan.complete());
  scan.on_page(20, 4);  // records inserted meanwhile
  CHECK(scan.drift().records_after_end == 4);

  offset_scan low(settings(10, 1));
  drain_requests(low);
  low.on_page(0, 10, 100);
  drain_requests(low);
  low.on_page(10, 0, 100);
  CHECK(low.complete());
  CHECK(low.drift().empty_below_total);
}

TEST_CASE("variable caps: a page larger than the step overlaps, nothing is lost") {
  offset_scan scan(settings(50, 3));
  drain_requests(scan);
  scan.on_page(0, 10);  // small first page
  CHECK(drain_requests(scan) == std::vector<i64>{10});
  scan.on_page(10, 40);  // [10, 50): page 0 was capped, the step is 10
  CHECK(scan.step() == 10);
  // Speculation skips what is covered already.
  CHECK(drain_requests(scan) == std::vector<i64>{50, 60, 70});
  scan.on_page(60, 40);
  scan.on_page(50, 30);  // [50, 80) overlaps [60, 100)
  CHECK(scan.stats().overlap_records == 20);
  CHECK(scan.contiguous_end() == 100);
}

TEST_CASE("exhaustive: fixed caps, every window, every order") {
  std::int64_t runs = 0;
  for (i64 limit : {1, 2, 3, 10, 25, 50}) {
    for (i64 cap : {limit, (limit + 1) / 2, i64{1}}) {
      for (i64 records : {0, 1, 2, 3, 9, 10, 11, 24, 25, 26, 49, 50, 51, 99, 100, 101, 173}) {
        for (std::size_t window : {1, 2, 3, 4, 7, 16}) {
          for (order how : {order::random, order::fifo, order::lifo}) {
            for (std::uint32_t seed = 1; seed <= (how == order::random ? 3u : 1u); ++seed) {
              CAPTURE(limit);
              CAPTURE(cap);
              CAPTURE(records);
              CAPTURE(window);
              CAPTURE(static_cast<int>(how));
              CAPTURE(seed);
              server srv{records, limit, [cap](i64) { return cap; }};
              auto r = simulate(settings(limit, window), srv, seed, how);
              ++runs;
              CHECK(r.complete);
              CHECK(r.contiguous_end == records);
              // Bounded waste: at most one window at or past the end.
              CHECK(count_at_or_past(r.requests, records) <= static_cast<i64>(window));
              // No overlap, no refills: a fixed cap is learnt from the first page.
              const i64 step = std::min(cap, std::max<i64>(records, 1));
              CHECK(static_cast<i64>(r.requests.size()) <=
                    ceil_div(records, step) + static_cast<i64>(window));
              CHECK(r.stats.overlap_records == 0);
              CHECK(r.stats.refills == 0);
              CHECK_FALSE(r.drift.any());
              // Less than a page of uncapped data: the page and its end, nothing more.
              if (cap == limit && records < limit) CHECK(r.requests.size() <= 2);
            }
          }
        }
      }
    }
  }
  CHECK(runs > 5000);
}

TEST_CASE("exhaustive: a scan costs its pages and at most the one request that confirms the end") {
  // What the data needs (bench/rate-limit counts the same): every page, and
  // one more request when nothing else proves the end: a single short page
  // (it may be capped), or a last page that came back full.
  auto needed = [](i64 records, i64 served) {
    const i64 pages = std::max<i64>(1, ceil_div(records, served));
    const bool confirm = records > 0 && (records % served == 0 || records < served);
    return pages + (confirm ? 1 : 0);
  };
  for (i64 limit : {1, 2, 10, 25, 50}) {
    for (i64 cap : {limit, (limit + 1) / 2, i64{1}}) {
      for (i64 records : {0, 1, 2, 9, 10, 11, 24, 25, 26, 49, 50, 51, 75, 99, 100, 101, 173}) {
        for (std::size_t window : {1, 2, 4, 8}) {
          for (bool known : {false, true}) {
            CAPTURE(limit);
            CAPTURE(cap);
            CAPTURE(records);
            CAPTURE(window);
            CAPTURE(known);
            server srv{records, limit, [cap](i64) { return cap; }};
            auto s = settings(limit, window);
            if (known) s.known_page = cap;
            // Answers in order, and each request offered for withdrawal
            // before it is sent: the engine at a rate limit.
            auto r = simulate(s, srv, 1, order::fifo, std::nullopt, true);
            CHECK(r.complete);
            CHECK(r.contiguous_end == records);
            CHECK(static_cast<i64>(r.requests.size()) == needed(records, std::min(cap, limit)));
            CHECK_FALSE(r.drift.any());
            CHECK_FALSE(r.drift.page_sizes_vary);
          }
        }
      }
    }
  }
}

TEST_CASE("exhaustive: caps that vary from page to page") {
  for (i64 limit : {5, 25, 50}) {
    for (i64 cap : {limit, (limit + 2) / 3}) {
      for (i64 records : {0, 1, 7, 50, 51, 137, 400}) {
        for (std::size_t window : {1, 2, 4, 8}) {
          for (std::uint32_t seed = 1; seed <= 4; ++seed) {
            CAPTURE(limit);
            CAPTURE(cap);
            CAPTURE(records);
            CAPTURE(window);
            CAPTURE(seed);
            server srv{records, limit, varying_cap(cap, seed)};
            auto r = simulate(confirming(settings(limit, window)), srv, seed,
                              seed % 2 ? order::random : order::lifo);
            CHECK(r.complete);
            CHECK(r.contiguous_end == records);
            CHECK(count_at_or_past(r.requests, records) <= static_cast<i64>(window));
            CHECK(static_cast<i64>(r.requests.size()) <= records + static_cast<i64>(window));
          }
        }
      }
    }
  }
}

TEST_CASE("exhaustive: reported totals, right and wrong") {
  for (i64 limit : {4, 25, 50}) {
    for (i64 cap : {limit, (limit + 1) / 2}) {
      for (i64 records : {0, 1, 30, 50, 99, 100, 101}) {
        for (std::size_t window : {1, 3, 8}) {
          for (i64 skew : {0, -1, -7, -30, 1, 7, 100}) {
            const i64 total = std::max<i64>(0, records + skew);
            for (std::uint32_t seed = 1; seed <= 2; ++seed) {
              CAPTURE(limit);
              CAPTURE(cap);
              CAPTURE(records);
              CAPTURE(window);
              CAPTURE(total);
              CAPTURE(seed);
              server srv{records, limit, [cap](i64) { return cap; }};
              auto r = simulate(settings(limit, window), srv, seed, order::random, total);
              CHECK(r.complete);
              if (total >= records) {
                // A right or high total never costs a record.
                CHECK(r.contiguous_end == records);
              } else {
                // A low total is trusted unless records contradict it, and
                // then the scan runs to the real end.
                CHECK(r.contiguous_end >= total);
                if (r.drift.records_past_total) CHECK(r.contiguous_end == records);
              }
              if (total == records) {
                CHECK(count_at_or_past(r.requests, records) <= (records == 0 ? 1 : 0));
              } else {
                CHECK(count_at_or_past(r.requests, records) <= static_cast<i64>(window));
              }
              if (total > records && records < total) CHECK(r.drift.empty_below_total);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("exhaustive: maximum_offset and non-zero starts") {
  for (i64 records : {0, 10, 57, 120}) {
    for (i64 start : {0, 5, 50}) {
      for (i64 max_offset : {0, 1, 30, 50, 51, 200}) {
        for (std::size_t window : {1, 4}) {
          for (std::uint32_t seed = 1; seed <= 3; ++seed) {
            CAPTURE(records);
            CAPTURE(start);
            CAPTURE(max_offset);
            CAPTURE(window);
            CAPTURE(seed);
            server srv{records, 20, varying_cap(10, seed)};
            auto r = simulate(confirming(settings(20, window, start, max_offset)), srv, seed,
                              order::random);
            CHECK(r.complete);
            CHECK(r.contiguous_end >=
                  std::min(std::max(start, std::min(records, max_offset)), records));
            if (max_offset <= start) CHECK(r.requests.empty());
          }
        }
      }
    }
  }
}

TEST_CASE("withdrawing requests past a known end loses nothing and saves requests") {
  // 75 records, window 4: offsets 100, 150 and 200 go out with 50; once 100
  // answers empty, those still waiting at the gate are withdrawn unsent.
  // (With short_page_ends the page of 25 at 50 would end the scan at once.)
  offset_scan scan(confirming(settings(50, 4)));
  CHECK(drain_requests(scan) == std::vector<i64>{0});
  scan.on_page(0, 50);
  auto spec = drain_requests(scan);
  REQUIRE(spec.size() == 4);
  CHECK_FALSE(scan.withdraw_if_unneeded(50));  // needed: not past any end
  scan.on_page(50, 25);
  scan.on_page(100, 0);
  CHECK(scan.known_end() == 100);
  CHECK(scan.withdraw_if_unneeded(150));
  CHECK(scan.withdraw_if_unneeded(200));
  CHECK(scan.stats().withdrawn == 2);
  CHECK(scan.in_flight() == 0);
  CHECK(drain_requests(scan) == std::vector<i64>{75});
  scan.on_page(75, 0);
  CHECK(scan.complete());
  CHECK_THROWS_AS(scan.withdraw_if_unneeded(75), std::logic_error);
}

TEST_CASE("exhaustive: withdrawals at the gate, every window, every order") {
  for (i64 records : {0, 1, 49, 50, 51, 75, 99, 100, 101, 257}) {
    for (i64 cap : {50, 25, 7}) {
      for (std::size_t window : {1, 2, 4, 8}) {
        for (std::uint32_t seed = 0; seed < 6; ++seed) {
          server srv;
          srv.records = records;
          srv.cap = [cap](i64) { return cap; };
          auto how = seed % 3 == 0 ? order::fifo : seed % 3 == 1 ? order::lifo : order::random;
          CAPTURE(records);
          CAPTURE(cap);
          CAPTURE(window);
          CAPTURE(seed);
          auto r = simulate(settings(50, window), srv, seed, how, std::nullopt, true);
          CHECK(r.complete);
          CHECK(r.contiguous_end == records);
          auto c = simulate(confirming(settings(50, window)), srv, seed, how, std::nullopt, true);
          CHECK(c.complete);
          CHECK(c.contiguous_end == records);
        }
      }
    }
  }
}

TEST_CASE("a soft end confirmed: an empty page makes it hard, records show sizes vary") {
  offset_scan scan(settings(50, 4));
  drain_requests(scan);
  scan.on_page(0, 50);
  drain_requests(scan);  // 50, 100, 150, 200
  scan.on_page(50, 20);
  REQUIRE(scan.soft_end());
  CHECK_THROWS_AS(scan.confirm_end(), std::logic_error);  // requests in flight
  for (i64 o : {100, 150, 200}) CHECK(scan.withdraw_if_unneeded(o));
  scan.confirm_end();
  CHECK_FALSE(scan.complete());
  CHECK(drain_requests(scan) == std::vector<i64>{70});
  scan.on_page(70, 0);
  CHECK(scan.complete());
  CHECK_FALSE(scan.soft_end());
  CHECK_FALSE(scan.drift().page_sizes_vary);
  CHECK(scan.proven_page() == 50);
  CHECK_THROWS_AS(scan.confirm_end(), std::logic_error);  // not soft

  // The same scan against a server whose page at 50 lost records to a
  // filter: the confirmation finds more, and the scan goes on to the real end.
  offset_scan filtered(settings(50, 1));
  drain_requests(filtered);
  filtered.on_page(0, 50);
  drain_requests(filtered);
  filtered.on_page(50, 20);
  REQUIRE(filtered.soft_end());
  filtered.confirm_end();
  CHECK(drain_requests(filtered) == std::vector<i64>{70});
  filtered.on_page(70, 50);
  CHECK(filtered.drift().page_sizes_vary);
  CHECK_FALSE(filtered.complete());
  CHECK(drain_requests(filtered) == std::vector<i64>{120});
  filtered.on_page(120, 10);  // short, but sizes vary: its end is asked
  CHECK_FALSE(filtered.complete());
  CHECK(drain_requests(filtered) == std::vector<i64>{130});
  filtered.on_page(130, 0);
  CHECK(filtered.complete());
  CHECK(filtered.contiguous_end() == 130);
}

TEST_CASE("requests past a short page whose end is asked wait: withdrawn, issued again for a cap") {
  offset_scan scan(confirming(settings(50, 4)));
  drain_requests(scan);
  scan.on_page(0, 50);
  CHECK(drain_requests(scan) == std::vector<i64>{50, 100, 150, 200});
  scan.on_page(50, 25);  // short: its end, 75, is what to ask
  CHECK(scan.withdraw_if_unneeded(100));
  CHECK(scan.withdraw_if_unneeded(150));
  CHECK(drain_requests(scan) == std::vector<i64>{75});
  scan.on_page(75, 25);  // records: page 50 was capped at 25
  CHECK(scan.step() == 25);
  CHECK_FALSE(scan.withdraw_if_unneeded(200));
  const auto again = drain_requests(scan);
  CHECK(std::find(again.begin(), again.end(), 100) != again.end());  // issued again
}

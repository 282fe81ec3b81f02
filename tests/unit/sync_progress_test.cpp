#include "restsync/observe/sync_progress.hpp"

#include <doctest/doctest.h>

using namespace restsync;
using namespace std::chrono_literals;

namespace {

const auto t0 = progress_sink::clock::time_point{} + 1000h;

// n pages of `per_page` records each, the API reporting `total`.
void pages(sync_progress& p, std::string_view resource, int n, std::int64_t per_page,
           std::optional<std::int64_t> total) {
  for (int i = 0; i < n; ++i) {
    p.request_sent(resource);
    p.page_stored(resource, per_page, total);
  }
}

}  // namespace

TEST_CASE("every resource starts queued, in the order given; a run moves it along") {
  sync_progress p({"users", "labels"});
  REQUIRE(p.resources().size() == 2);
  CHECK(p.resources()[0].name == "users");
  CHECK(p.resources()[1].state == run_state::queued);
  CHECK_FALSE(p.started());

  p.run_started("labels", t0);
  pages(p, "labels", 2, 50, std::nullopt);
  p.request_sent("labels");
  const auto& labels = p.resources()[1];
  CHECK(labels.state == run_state::running);
  CHECK(labels.pages == 2);
  CHECK(labels.records == 100);
  CHECK(labels.requests == 3);
  CHECK(p.started() == t0);

  p.run_finished("labels", true, t0 + 3s);
  CHECK(labels.state == run_state::done);
  CHECK(labels.finished == t0 + 3s);
  p.run_started("users", t0 + 1s);
  p.run_finished("users", false, t0 + 2s);
  CHECK(p.resources()[0].state == run_state::failed);
  CHECK(p.started() == t0);
}

TEST_CASE("a resource the list did not name is added at the end") {
  sync_progress p({"users"});
  p.run_started("extra", t0);
  REQUIRE(p.resources().size() == 2);
  CHECK(p.resources()[1].name == "extra");
  CHECK(p.resources()[1].state == run_state::running);
}

TEST_CASE("a 429 wait: waiting until its end, the gate paused for everyone meanwhile") {
  sync_progress p({"users", "labels"});
  p.run_started("users", t0);
  p.run_started("labels", t0);
  p.wait_begun("users", t0 + 5s, true);
  const auto& users = p.resources()[0];
  CHECK(users.state == run_state::waiting);
  CHECK(users.rate_limited);
  CHECK(users.wait_until == t0 + 5s);
  CHECK(p.paused_until(t0 + 1s) == t0 + 5s);
  CHECK_FALSE(p.paused_until(t0 + 5s));

  // A second request of the run waits too, a little less: the later end counts.
  p.wait_begun("users", t0 + 4s, true);
  CHECK(users.wait_until == t0 + 5s);
  p.wait_ended("users");
  CHECK(users.state == run_state::waiting);
  p.wait_ended("users");
  CHECK(users.state == run_state::running);
  CHECK_FALSE(p.paused_until(t0 + 1s));
}

TEST_CASE("a retry after an error waits without pausing the gate") {
  sync_progress p({"users"});
  p.run_started("users", t0);
  p.wait_begun("users", t0 + 2s, false);
  CHECK(p.resources()[0].state == run_state::waiting);
  CHECK_FALSE(p.resources()[0].rate_limited);
  CHECK_FALSE(p.paused_until(t0));
}

TEST_CASE("a run that ends while a request waits is no longer waiting") {
  sync_progress p({"users"});
  p.run_started("users", t0);
  p.wait_begun("users", t0 + 9s, true);
  p.run_finished("users", false, t0 + 1s);
  CHECK(p.resources()[0].state == run_state::failed);
  CHECK_FALSE(p.paused_until(t0 + 2s));
}

TEST_CASE("no estimate without a reported total") {
  sync_progress p({"users"});
  p.set_allowed_rate(1);
  p.run_started("users", t0);
  pages(p, "users", 3, 50, std::nullopt);
  CHECK_FALSE(p.estimate(0, t0));
  CHECK_FALSE(p.estimate_all(t0));
}

TEST_CASE("with a total: pages left at the records a page held, time at the gate's rate") {
  sync_progress p({"users"});
  p.set_allowed_rate(2);
  p.run_started("users", t0);
  pages(p, "users", 4, 50, 1000);
  auto e = p.estimate(0, t0);
  REQUIRE(e);
  CHECK(e->pages_left == 16);  // 800 records left, 50 a page
  REQUIRE(e->time_left);
  CHECK(*e->time_left == 8s);  // 16 pages at 2 requests/s

  // A short page rounds up: one page more, not a fraction.
  pages(p, "users", 1, 30, 1000);
  e = p.estimate(0, t0);
  REQUIRE(e);
  CHECK(e->pages_left == 17);  // 770 left at 46 a page

  // More records than the total (pages that overlap): nothing left, not less.
  pages(p, "users", 30, 50, 1000);
  CHECK(p.estimate(0, t0)->pages_left == 0);
}

TEST_CASE("the gate without a limit gives pages left but no time") {
  sync_progress p({"users"});
  p.run_started("users", t0);
  pages(p, "users", 1, 50, 200);
  auto e = p.estimate(0, t0);
  REQUIRE(e);
  CHECK(e->pages_left == 3);
  CHECK_FALSE(e->time_left);
}

TEST_CASE("the time left shares the gate round-robin with the runs still going") {
  sync_progress p({"small", "big", "unknown", "over"});
  p.set_allowed_rate(1);
  for (auto name : {"small", "big", "unknown", "over"}) p.run_started(name, t0);
  pages(p, "small", 1, 10, 30);    // 2 pages left
  pages(p, "big", 1, 10, 110);     // 10 pages left
  pages(p, "unknown", 1, 10, {});  // size unknown: counted as running to the end
  pages(p, "over", 1, 10, 10);
  p.run_finished("over", true, t0);  // ended: shares nothing

  // small: its 2 pages, 2 of big's, 2 of unknown's.
  CHECK(*p.estimate(0, t0)->time_left == 6s);
  // big: 10 of its own, small's 2, 10 of unknown's.
  CHECK(*p.estimate(1, t0)->time_left == 22s);
  CHECK_FALSE(p.estimate(2, t0));
  CHECK_FALSE(p.estimate(3, t0));
  // A run of unknown size leaves the whole sync without an estimate.
  CHECK_FALSE(p.estimate_all(t0));
  p.run_finished("unknown", true, t0);
  auto all = p.estimate_all(t0);
  REQUIRE(all);
  CHECK(all->pages_left == 12);
  CHECK(*all->time_left == 12s);
  CHECK(*p.estimate(1, t0)->time_left == 12s);
}

TEST_CASE("a 429 pause adds what is left of it to the time left") {
  sync_progress p({"users"});
  p.set_allowed_rate(1);
  p.run_started("users", t0);
  pages(p, "users", 1, 50, 150);
  p.wait_begun("users", t0 + 7s, true);
  CHECK(*p.estimate(0, t0 + 2s)->time_left == 2s + 5s);
  CHECK(*p.estimate_all(t0 + 2s)->time_left == 2s + 5s);
}

TEST_CASE("every run ended: nothing left to estimate") {
  sync_progress p({"users"});
  p.set_allowed_rate(1);
  p.run_started("users", t0);
  pages(p, "users", 3, 50, 150);
  p.run_finished("users", true, t0 + 3s);
  CHECK_FALSE(p.estimate(0, t0));
  CHECK_FALSE(p.estimate_all(t0));
}

TEST_CASE("a second run of a resource starts its counts again") {
  sync_progress p({"users"});
  p.run_started("users", t0);
  pages(p, "users", 3, 50, 150);
  p.run_finished("users", true, t0 + 3s);
  p.run_started("users", t0 + 4s);
  const auto& users = p.resources()[0];
  CHECK(users.state == run_state::running);
  CHECK(users.pages == 0);
  CHECK_FALSE(users.total);
  CHECK_FALSE(users.finished);
}

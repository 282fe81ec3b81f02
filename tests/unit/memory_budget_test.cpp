#include "restsync/flow/memory_budget.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using restsync::memory_budget;
using ids = std::vector<memory_budget::lease_id>;

TEST_CASE("opens are granted in order while they fit") {
  memory_budget b(100);
  auto a = b.open(40), c = b.open(40), d = b.open(40);
  CHECK(b.poll() == ids{a, c});
  CHECK(b.held() == 80);
  CHECK(b.waiting() == 1);
  b.close(a);
  CHECK(b.poll() == ids{d});
  CHECK(b.held() == 80);
  CHECK_THROWS_AS(memory_budget(0), std::invalid_argument);
}

TEST_CASE("one response larger than the budget goes alone") {
  memory_budget b(100);
  auto big = b.open(500);
  CHECK(b.poll() == ids{big});
  auto small = b.open(1);
  CHECK(b.poll().empty());
  b.close(big);
  CHECK(b.poll() == ids{small});
}

TEST_CASE("a known body grows its lease, waiting for room; requests in flight come first") {
  memory_budget b(100);
  auto a = b.open(10), c = b.open(10);
  REQUIRE(b.poll() == ids{a, c});
  CHECK(b.grow(a, 50));  // fits: granted at once
  CHECK(b.held() == 60);
  CHECK_FALSE(b.grow(c, 60));  // 50 + 60 > 100, and c is not the oldest
  auto late = b.open(1);
  CHECK(b.poll().empty());  // the open waits behind the grow
  b.close(a);
  CHECK(b.poll() == ids{c, late});
  CHECK(b.held_by(c) == 60);
  CHECK(b.held() == 61);
}

TEST_CASE("the oldest lease always proceeds, so that leases cannot stall each other") {
  memory_budget b(100);
  auto a = b.open(50), c = b.open(50);
  REQUIRE(b.poll() == ids{a, c});
  CHECK_FALSE(b.grow(c, 80));  // waits: a is older
  CHECK(b.grow(a, 90));        // the oldest: granted even past the limit
  CHECK(b.held() == 140);
  b.close(a);
  CHECK(b.poll() == ids{c});
  CHECK(b.held() == 80);
}

TEST_CASE("a body of unannounced length is charged after the fact; opens then wait") {
  memory_budget b(100);
  auto a = b.open(10);
  REQUIRE(b.poll() == ids{a});
  b.force(a, 150);
  CHECK(b.held() == 150);
  auto c = b.open(10);
  CHECK(b.poll().empty());
  b.close(a);
  CHECK(b.poll() == ids{c});
}

TEST_CASE("closing a lease that waits forgets its requests") {
  memory_budget b(100);
  auto a = b.open(90), c = b.open(50), d = b.open(5);
  REQUIRE(b.poll() == ids{a});
  b.close(c);  // withdrawn while waiting
  CHECK(b.poll() == ids{d});
  CHECK(b.held() == 95);
  b.close(a);
  b.close(d);
  CHECK(b.held() == 0);
  CHECK(b.waiting() == 0);
  CHECK(b.grow(12345, 10));  // an unknown lease has nothing to wait for
}

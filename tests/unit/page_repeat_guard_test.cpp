#include <doctest/doctest.h>

#include <string>

#include "restsync/paging/repeat_guard.hpp"

using restsync::page_fingerprint;
using restsync::page_repeat_guard;

TEST_CASE("page_fingerprint: count and both end keys") {
  const auto a = page_fingerprint(50, "[1]", "[50]");
  CHECK(a == page_fingerprint(50, "[1]", "[50]"));
  CHECK(a != page_fingerprint(49, "[1]", "[50]"));
  CHECK(a != page_fingerprint(50, "[2]", "[50]"));
  CHECK(a != page_fingerprint(50, "[1]", "[51]"));
  // The separator keeps the parts apart.
  CHECK(page_fingerprint(1, "ab", "c") != page_fingerprint(1, "a", "bc"));
}

TEST_CASE("an API that ignores the offset fails on the third position") {
  page_repeat_guard g;
  const auto same = page_fingerprint(50, "[1]", "[50]");
  CHECK_FALSE(g.on_page(0, same));
  CHECK_FALSE(g.on_page(50, same));
  auto verdict = g.on_page(100, same);
  REQUIRE(verdict);
  CHECK(*verdict == 0);
}

TEST_CASE("paging through distinct pages never trips the guard") {
  page_repeat_guard g;
  for (std::int64_t offset = 0; offset < 100'000; offset += 50)
    CHECK_FALSE(g.on_page(
        offset, page_fingerprint(50, std::to_string(offset + 1), std::to_string(offset + 50))));
}

TEST_CASE("data that moved once under the scan, and re-reads, are not repeats") {
  page_repeat_guard g;
  const auto p = page_fingerprint(50, "[1]", "[50]");
  CHECK_FALSE(g.on_page(0, p));
  // Fifty records inserted in front: the page now sits one page later.
  CHECK_FALSE(g.on_page(50, p));
  // Reading either position again (a hole refilled, an anchor check) is fine.
  CHECK_FALSE(g.on_page(50, p));
  CHECK_FALSE(g.on_page(0, p));
  // Another page repeated once is still no proof.
  const auto q = page_fingerprint(50, "[51]", "[100]");
  CHECK_FALSE(g.on_page(100, q));
  CHECK_FALSE(g.on_page(150, q));
}

TEST_CASE("a page number paginator whose server ignores the page") {
  page_repeat_guard g;
  const auto p = page_fingerprint(10, "\"a\"", "\"j\"");
  CHECK_FALSE(g.on_page(1, p));
  CHECK_FALSE(g.on_page(2, p));
  CHECK(g.on_page(3, p) == 1);
  g.reset();
  CHECK_FALSE(g.on_page(4, p));
}

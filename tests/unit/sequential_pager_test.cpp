// The sequential pagers page through made-up pages: every paginator type and
// every rule that ends or fails a scan, without a socket.
#include <doctest/doctest.h>

#include <string>

#include "restsync/paging/sequential.hpp"

using namespace restsync;

namespace {

sequential_settings settings_for(paginator_config p) {
  sequential_settings s;
  s.paginator = std::move(p);
  s.base_target = "/v1/items?status=open";
  s.origin = "https://api.example.com:443";
  return s;
}

// A page of n records whose fingerprint is distinct per seed.
received_page records(std::int64_t n, int seed) {
  received_page p;
  p.records = n;
  if (n > 0)
    p.fingerprint = page_fingerprint(static_cast<std::size_t>(n), std::to_string(seed),
                                     std::to_string(seed + 1000));
  return p;
}

void check_next(const pager_step& s, const std::string& target) {
  REQUIRE(s.what == pager_step::kind::next);
  CHECK(s.request.target == target);
}

void check_done(const pager_step& s) {
  CHECK(s.what == pager_step::kind::done);
  CHECK(s.message.empty());
}

}  // namespace

TEST_CASE("single_page: one request, done after it whatever it holds") {
  sequential_pager pager(settings_for(single_page_paginator{}));
  CHECK(pager.first_request().target == "/v1/items?status=open");
  auto p = records(50, 1);
  p.next = "more";  // hints do not matter
  check_done(pager.on_page(p));
  CHECK(pager.pages() == 1);
}

TEST_CASE("page_number: numbers from page, done at an empty page") {
  page_number_paginator n;
  n.base_page = 1;
  n.page = 1;
  n.page_param = "p";
  sequential_pager pager(settings_for(n));
  CHECK(pager.first_request().target == "/v1/items?status=open&p=1");
  check_next(pager.on_page(records(10, 1)), "/v1/items?status=open&p=2");
  check_next(pager.on_page(records(10, 2)), "/v1/items?status=open&p=3");
  check_done(pager.on_page(records(0, 3)));
  CHECK(pager.pages() == 3);
}

TEST_CASE("page_number: a short page is not the end, an empty one is") {
  sequential_pager pager(settings_for(page_number_paginator{}));
  CHECK(pager.first_request().target == "/v1/items?status=open&page=0");
  check_next(pager.on_page(records(3, 1)), "/v1/items?status=open&page=1");
  check_done(pager.on_page(records(0, 2)));
}

TEST_CASE("page_number: done when the next page reaches the total page count") {
  page_number_paginator n;
  n.base_page = 1;
  n.page = 1;
  sequential_pager pager(settings_for(n));
  auto p = records(10, 1);
  p.total = 3;  // pages 1, 2, 3
  check_next(pager.on_page(p), "/v1/items?status=open&page=2");
  p = records(10, 2);
  p.total = 3;
  check_next(pager.on_page(p), "/v1/items?status=open&page=3");
  p = records(10, 3);
  p.total = 3;
  check_done(pager.on_page(p));
}

TEST_CASE("page_number: the total counts from base_page, not from the start page") {
  page_number_paginator n;
  n.base_page = 0;
  n.page = 2;  // starts at the third page of 3
  sequential_pager pager(settings_for(n));
  CHECK(pager.first_request().target == "/v1/items?status=open&page=2");
  auto p = records(10, 1);
  p.total = 3;
  check_done(pager.on_page(p));
}

TEST_CASE("page_number: a total of 0 ends after the first page") {
  sequential_pager pager(settings_for(page_number_paginator{}));
  auto p = records(10, 1);
  p.total = 0;
  check_done(pager.on_page(p));
}

TEST_CASE("page_number: never past maximum_page") {
  page_number_paginator n;
  n.base_page = 1;
  n.page = 1;
  n.maximum_page = 2;
  sequential_pager pager(settings_for(n));
  check_next(pager.on_page(records(10, 1)), "/v1/items?status=open&page=2");
  check_done(pager.on_page(records(10, 2)));  // page 3 would pass the maximum
}

TEST_CASE("page_number: an API that ignores the page parameter fails on the third page") {
  sequential_pager pager(settings_for(page_number_paginator{}));
  const auto same = records(10, 7);
  check_next(pager.on_page(same), "/v1/items?status=open&page=1");
  check_next(pager.on_page(same), "/v1/items?status=open&page=2");
  auto s = pager.on_page(same);
  REQUIRE(s.what == pager_step::kind::failed);
  CHECK_FALSE(s.store_page);
  CHECK(s.message ==
        "the API seems to ignore the paging parameter `page`: page 3 of the scan holds the same "
        "records as page 1 and after; stopping");
}

TEST_CASE("page_number: a singleton page is the whole collection") {
  sequential_pager pager(settings_for(page_number_paginator{}));
  auto p = records(1, 1);
  p.singleton = true;
  p.fingerprint.reset();
  check_done(pager.on_page(p));
}

TEST_CASE("cursor: the page's cursor goes back as the parameter; done without one") {
  cursor_paginator c;
  c.cursor_param = "after";
  sequential_pager pager(settings_for(c));
  CHECK(pager.first_request().target == "/v1/items?status=open");
  auto p = records(10, 1);
  p.next = "abc def";
  check_next(pager.on_page(p), "/v1/items?status=open&after=abc%20def");
  p = records(10, 2);
  p.next = "xyz";
  check_next(pager.on_page(p), "/v1/items?status=open&after=xyz");
  // page.hpp gives no next for a missing, null or empty cursor.
  check_done(pager.on_page(records(10, 3)));
  CHECK(pager.pages() == 3);
}

TEST_CASE("cursor: an empty page with a cursor goes on") {
  sequential_pager pager(settings_for(cursor_paginator{}));
  auto p = records(0, 1);
  p.next = "c1";
  check_next(pager.on_page(p), "/v1/items?status=open&cursor=c1");
}

TEST_CASE("cursor: the same cursor twice fails, naming the request without secrets") {
  auto s = settings_for(cursor_paginator{});
  s.base_target = "/v1/items?api_key=sekrit";
  s.secret_params = {"api_key"};
  sequential_pager pager(s);
  auto p = records(10, 1);
  p.next = "c1";
  check_next(pager.on_page(p), "/v1/items?api_key=sekrit&cursor=c1");
  p = records(10, 2);
  p.next = "c1";
  auto step = pager.on_page(p);
  REQUIRE(step.what == pager_step::kind::failed);
  CHECK(step.store_page);  // the page itself is new
  CHECK(step.message ==
        "the API sent the same next page twice (/v1/items?api_key=***&cursor=c1); stopping to "
        "avoid a loop");
  CHECK(step.message.find("sekrit") == std::string::npos);
}

TEST_CASE("cursor: a cursor that changes while the records do not fails as ignored") {
  sequential_pager pager(settings_for(cursor_paginator{}));
  const auto same = records(5, 9);
  for (int i = 0; i < 2; ++i) {
    auto p = same;
    p.next = "c" + std::to_string(i);
    REQUIRE(pager.on_page(p).what == pager_step::kind::next);
  }
  auto p = same;
  p.next = "c2";
  auto s = pager.on_page(p);
  REQUIRE(s.what == pager_step::kind::failed);
  CHECK_FALSE(s.store_page);
  CHECK(s.message.find("ignore the paging parameter `cursor`: page 3 of the scan") !=
        std::string::npos);
}

TEST_CASE("json_link: follows the body's URL on the same origin, credentials added") {
  auto s = settings_for(json_link_paginator{});
  s.link_params = {{"api_key", "k"}};
  sequential_pager pager(s);
  auto p = records(10, 1);
  p.next = "https://api.example.com/v1/items?page=2";
  check_next(pager.on_page(p), "/v1/items?page=2&api_key=k");
  p = records(10, 2);
  p.next = "/v1/items?page=3";  // origin-relative
  check_next(pager.on_page(p), "/v1/items?page=3&api_key=k");
  check_done(pager.on_page(records(10, 3)));  // no next link
}

TEST_CASE("json_link: an empty page with a link goes on") {
  sequential_pager pager(settings_for(json_link_paginator{}));
  auto p = records(0, 1);
  p.next = "/v1/items?page=2";
  check_next(pager.on_page(p), "/v1/items?page=2");
}

TEST_CASE("json_link: a link to another origin fails, the page before it still stored") {
  auto s = settings_for(json_link_paginator{});
  s.secret_params = {"token"};
  sequential_pager pager(s);
  auto p = records(10, 1);
  p.next = "https://evil.example.net/v1/items?page=2&token=t0p";
  auto step = pager.on_page(p);
  REQUIRE(step.what == pager_step::kind::failed);
  CHECK(step.store_page);
  CHECK(step.message ==
        "next link https://evil.example.net/v1/items?page=2&token=*** points to another origin "
        "than https://api.example.com:443; refusing to send credentials there");
}

TEST_CASE("json_link: another scheme or port is another origin; garbage is refused") {
  for (const char* link :
       {"http://api.example.com/v1/items?page=2", "https://api.example.com:8443/v1/items?page=2",
        "not a url", "ftp://api.example.com/x"}) {
    CAPTURE(link);
    sequential_pager pager(settings_for(json_link_paginator{}));
    auto p = records(10, 1);
    p.next = link;
    CHECK(pager.on_page(p).what == pager_step::kind::failed);
  }
}

TEST_CASE("json_link: a link already followed fails") {
  sequential_pager pager(settings_for(json_link_paginator{}));
  auto p = records(10, 1);
  p.next = "/v1/items?page=2";
  check_next(pager.on_page(p), "/v1/items?page=2");
  p = records(10, 2);
  p.next = "/v1/items?page=2";
  auto step = pager.on_page(p);
  REQUIRE(step.what == pager_step::kind::failed);
  CHECK(step.message.find("the same next page twice (/v1/items?page=2)") != std::string::npos);
}

TEST_CASE("json_link: the first request is not among the links seen") {
  // As before the pagers were pure: a link back to the first page is
  // followed once; the loop shows at the next repeat.
  sequential_pager pager(settings_for(json_link_paginator{}));
  auto p = records(10, 1);
  p.next = "/v1/items?status=open";
  check_next(pager.on_page(p), "/v1/items?status=open");
  p = records(10, 2);
  p.next = "/v1/items?status=open";
  CHECK(pager.on_page(p).what == pager_step::kind::failed);
}

TEST_CASE("header_link: follows rel=next of the Link header; done without it") {
  header_link_paginator h;
  sequential_pager pager(settings_for(h));
  auto p = records(10, 1);
  p.link =
      "<https://api.example.com/v1/items?page=2>; rel=\"next\", "
      "<https://api.example.com/v1/items?page=9>; rel=\"last\"";
  p.next = "/ignored";  // the body's hints do not count
  check_next(pager.on_page(p), "/v1/items?page=2");
  p = records(10, 2);
  p.link = "<https://api.example.com/v1/items?page=1>; rel=\"prev\"";
  check_done(pager.on_page(p));
}

TEST_CASE("header_link: no Link header at all is the end") {
  sequential_pager pager(settings_for(header_link_paginator{}));
  check_done(pager.on_page(records(10, 1)));
}

TEST_CASE("header_link: the configured relation, another origin, a repeat") {
  header_link_paginator h;
  h.links_next_key = "following";
  sequential_pager pager(settings_for(h));
  auto p = records(10, 1);
  p.link = "</v1/items?page=2>; rel=\"following\"";
  check_next(pager.on_page(p), "/v1/items?page=2");
  p = records(10, 2);
  p.link = "</v1/items?page=2>; rel=\"following\"";
  auto again = pager.on_page(p);
  REQUIRE(again.what == pager_step::kind::failed);
  CHECK(again.message.find("same next page twice") != std::string::npos);

  sequential_pager other(settings_for(h));
  p = records(10, 1);
  p.link = "<https://elsewhere.example.com/v1/items?page=2>; rel=\"following\"";
  auto away = other.on_page(p);
  REQUIRE(away.what == pager_step::kind::failed);
  CHECK(away.message.find("points to another origin") != std::string::npos);
}

TEST_CASE("header_link: an API that ignores the link fails as ignored, naming the link") {
  sequential_pager pager(settings_for(header_link_paginator{}));
  const auto same = records(10, 4);
  for (int i = 2; i <= 3; ++i) {
    auto p = same;
    p.link = "</v1/items?page=" + std::to_string(i) + ">; rel=\"next\"";
    REQUIRE(pager.on_page(p).what == pager_step::kind::next);
  }
  auto p = same;
  p.link = "</v1/items?page=4>; rel=\"next\"";
  auto s = pager.on_page(p);
  REQUIRE(s.what == pager_step::kind::failed);
  CHECK_FALSE(s.store_page);
  CHECK(s.message.find("ignore the next link: page 3 of the scan holds the same records as page "
                       "1") != std::string::npos);
}

TEST_CASE("a singleton ends every paginator") {
  for (paginator_config p :
       {paginator_config{cursor_paginator{}}, paginator_config{json_link_paginator{}},
        paginator_config{header_link_paginator{}}}) {
    sequential_pager pager(settings_for(p));
    received_page page;
    page.records = 1;
    page.singleton = true;
    page.next = "/v1/items?page=2";
    page.link = "</v1/items?page=2>; rel=\"next\"";
    check_done(pager.on_page(page));
  }
}

TEST_CASE("paging_parameter names what carries the next request") {
  CHECK(paging_parameter(page_number_paginator{}) == "paging parameter `page`");
  CHECK(paging_parameter(cursor_paginator{}) == "paging parameter `cursor`");
  CHECK(paging_parameter(json_link_paginator{}) == "next link");
  CHECK(paging_parameter(header_link_paginator{}) == "next link");
}

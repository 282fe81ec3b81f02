// The window of an incremental run and how its cursor advances, without a
// database: the stored state and made-up pages in, decisions out.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "restsync/incremental/cursor_advance.hpp"
#include "restsync/incremental/window.hpp"
#include "restsync/paging/page.hpp"

using namespace restsync;
using namespace std::chrono_literals;

namespace {

resource_config resource(row_order order = row_order::unordered) {
  resource_config rc;
  rc.name = "orders";
  rc.primary_key = {"id"};
  incremental_config inc;
  inc.cursor_path = {"updatedAt"};
  inc.initial_value = "2024-01-01T00:00:00Z";
  inc.order = order;
  rc.endpoint.incremental = inc;
  return rc;
}

incremental_window planned(const resource_config& rc, window_state st, bool full_refresh = false) {
  auto w = plan_window(rc, st, full_refresh);
  REQUIRE(std::holds_alternative<incremental_window>(w));
  return std::get<incremental_window>(w);
}

page read(const std::string& body) {
  auto p = page::read(body, page_spec("$"));
  REQUIRE(std::holds_alternative<page>(p));
  return std::get<page>(std::move(p));
}

std::string key(const rapidjson::Value& r) { return std::to_string(r["id"].GetInt()); }

}  // namespace

TEST_CASE("a first run reads everything from initial_value") {
  auto rc = resource();
  auto w = planned(rc, {});
  CHECK(w.full);
  REQUIRE(w.start);
  CHECK(w.start->text == "2024-01-01T00:00:00Z");
  CHECK_FALSE(w.end);
  CHECK_FALSE(w.previous);
  CHECK_FALSE(w.stop_at_start);
}

TEST_CASE("a later run starts at the stored cursor when it is later, lag applied") {
  auto rc = resource();
  rc.endpoint.incremental->lag = 1h;
  rc.endpoint.incremental->end_value = "2025-01-01T00:00:00Z";
  auto w = planned(rc, {std::string("2024-06-01T12:00:00Z"), 10.0});
  CHECK_FALSE(w.full);
  REQUIRE(w.previous);
  CHECK(w.previous->text == "2024-06-01T12:00:00Z");
  REQUIRE(w.start);
  CHECK(w.start->text == "2024-06-01T11:00:00Z");
  REQUIRE(w.end);
  CHECK(w.end->text == "2025-01-01T00:00:00Z");

  // A stored cursor before initial_value does not move the start back.
  w = planned(rc, {std::string("2023-06-01T00:00:00Z"), 10.0});
  CHECK_FALSE(w.full);
  CHECK(w.start->text == "2023-12-31T23:00:00Z");
}

TEST_CASE("without initial_value a later run starts at the stored cursor") {
  auto rc = resource();
  rc.endpoint.incremental->initial_value.reset();
  auto w = planned(rc, {std::string("1700000000"), std::nullopt});
  CHECK_FALSE(w.full);
  REQUIRE(w.start);
  CHECK(w.start->text == "1700000000");
  CHECK(planned(rc, {}).start == std::nullopt);
}

TEST_CASE("full refresh, replace and a due full scan read everything") {
  const window_state stored{std::string("2024-06-01T12:00:00Z"), 3600.0};
  auto rc = resource();
  CHECK(planned(rc, stored, true).full);
  CHECK(planned(rc, stored, true).start->text == "2024-01-01T00:00:00Z");

  rc.write_disposition = disposition::replace;
  CHECK(planned(rc, stored).full);

  rc = resource();
  rc.full_scan_every = 3600s;
  CHECK(planned(rc, stored).full);  // exactly due
  CHECK_FALSE(planned(rc, {stored.cursor, 3599.0}).full);
  CHECK(planned(rc, {stored.cursor, std::nullopt}).full);  // never scanned whole
}

TEST_CASE("newest first with a start stops at the start, unless the run is full") {
  auto rc = resource(row_order::desc);
  CHECK(planned(rc, {std::string("2024-06-01T12:00:00Z"), 1.0}).stop_at_start);
  CHECK_FALSE(planned(rc, {}).stop_at_start);  // full: reads everything
  CHECK_FALSE(
      planned(resource(row_order::asc), {std::string("2024-06-01T12:00:00Z"), 1.0}).stop_at_start);
}

TEST_CASE("a stored cursor that does not read fails the run") {
  auto w = plan_window(resource(), {std::string("yesterday"), 1.0}, false);
  REQUIRE(std::holds_alternative<std::string>(w));
  CHECK(std::get<std::string>(w) ==
        "orders: the stored cursor 'yesterday' (_rs_state.cursor_value) is not a timestamp; fix "
        "or clear it, or run with --full-refresh");
}

TEST_CASE("filter leaves out records outside the window and notes the newest kept") {
  auto rc = resource(row_order::asc);
  rc.endpoint.incremental->end_value = "2024-03-01T00:00:00Z";
  cursor_advance adv(*rc.endpoint.incremental, planned(rc, {}), rc.name);
  CHECK_FALSE(adv.page_cursor());
  auto pg = read(R"([{"id":1,"updatedAt":"2023-12-31T00:00:00Z"},
                     {"id":2,"updatedAt":"2024-02-01T00:00:00Z"},
                     {"id":3,"updatedAt":1704153600},
                     {"id":4,"updatedAt":"2024-03-01T00:00:00Z"}])");
  auto f = adv.filter(pg.records(), "page 1 of the scan", key);
  REQUIRE(std::holds_alternative<page_filter>(f));
  CHECK(std::get<page_filter>(f).skip == std::vector<char>{1, 0, 0, 1});
  CHECK(std::get<page_filter>(f).reaches_start);  // record 1 is before the start
  REQUIRE(adv.max_seen());
  CHECK(adv.max_seen()->text == "2024-02-01T00:00:00Z");
  CHECK(adv.page_cursor() == "2024-02-01T00:00:00Z");  // ascending: stored with the page
}

TEST_CASE("only ascending scans store the cursor with each page") {
  for (row_order order : {row_order::unordered, row_order::desc}) {
    auto rc = resource(order);
    cursor_advance adv(*rc.endpoint.incremental, planned(rc, {}), rc.name);
    auto pg = read(R"([{"id":1,"updatedAt":"2024-02-01T00:00:00Z"}])");
    REQUIRE(std::holds_alternative<page_filter>(adv.filter(pg.records(), "p", key)));
    CHECK(adv.max_seen());
    CHECK_FALSE(adv.page_cursor());
  }
}

TEST_CASE("a page that reaches past the start says so; undated records do not count") {
  auto rc = resource(row_order::desc);
  rc.endpoint.incremental->on_cursor_value_missing = missing_cursor_action::include;
  cursor_advance adv(*rc.endpoint.incremental, planned(rc, {}), rc.name);
  auto older = read(R"([{"id":1,"updatedAt":"2023-01-01T00:00:00Z"},{"id":2}])");
  auto f = adv.filter(older.records(), "p", key);
  CHECK(std::get<page_filter>(f).reaches_start);
  CHECK(std::get<page_filter>(f).skip == std::vector<char>{1, 0});  // include keeps it
  auto undated = read(R"([{"id":3,"updatedAt":null}])");
  CHECK_FALSE(std::get<page_filter>(adv.filter(undated.records(), "p", key)).reaches_start);
  // Newer records and then one older than the start: the newer ones are
  // kept, and the page is the last one a newest-first scan needs.
  auto across = read(R"([{"id":4,"updatedAt":"2024-01-20T00:00:00Z"},
                         {"id":5,"updatedAt":"2023-06-01T00:00:00Z"}])");
  f = adv.filter(across.records(), "p", key);
  CHECK(std::get<page_filter>(f).reaches_start);
  CHECK(std::get<page_filter>(f).skip == std::vector<char>{0, 1});
  REQUIRE(adv.max_seen());
  CHECK(adv.max_seen()->text == "2024-01-20T00:00:00Z");
}

TEST_CASE("a missing cursor value: raise fails naming the page, exclude leaves it out") {
  auto rc = resource();
  cursor_advance raise(*rc.endpoint.incremental, planned(rc, {}), rc.name);
  auto pg = read(R"([{"id":1,"updatedAt":"2024-02-01T00:00:00Z"},{"id":7}])");
  auto f = raise.filter(pg.records(), "page 2 of the scan", key);
  REQUIRE(std::holds_alternative<std::string>(f));
  CHECK(std::get<std::string>(f) ==
        "orders: record 1 of page 2 of the scan (key 7) has no cursor value at updatedAt "
        "(on_cursor_value_missing: raise)");

  rc.endpoint.incremental->on_cursor_value_missing = missing_cursor_action::exclude;
  cursor_advance exclude(*rc.endpoint.incremental, planned(rc, {}), rc.name);
  CHECK(std::get<page_filter>(exclude.filter(pg.records(), "p", key)).skip ==
        std::vector<char>{0, 1});
}

TEST_CASE("a cursor value that is not a timestamp fails, showing it") {
  auto rc = resource();
  rc.endpoint.incremental->cursor_path = {"meta", "changed"};
  cursor_advance adv(*rc.endpoint.incremental, planned(rc, {}), rc.name);
  auto pg = read(R"([{"id":4,"meta":{"changed":true}}])");
  auto f = adv.filter(pg.records(), "the page at offset 100", key);
  REQUIRE(std::holds_alternative<std::string>(f));
  CHECK(std::get<std::string>(f) ==
        "orders: record 0 of the page at offset 100 (key 4): the cursor meta.changed is true, "
        "neither epoch seconds, epoch milliseconds nor an ISO-8601 date-time");
}

TEST_CASE("the cursor advances to the newest seen, never back, only over a whole window") {
  auto rc = resource();
  const window_state stored{std::string("2024-06-01T00:00:00Z"), 1.0};
  cursor_advance adv(*rc.endpoint.incremental, planned(rc, stored), rc.name);
  // Nothing seen: the previous cursor stays.
  CHECK(adv.advanced(true) == "2024-06-01T00:00:00Z");
  auto older = read(R"([{"id":1,"updatedAt":"2024-05-31T23:00:00Z"}])");
  REQUIRE(std::holds_alternative<page_filter>(adv.filter(older.records(), "p", key)));
  CHECK(adv.advanced(true) == "2024-06-01T00:00:00Z");  // never back
  auto newer = read(R"([{"id":2,"updatedAt":"2024-06-02T00:00:00Z"}])");
  REQUIRE(std::holds_alternative<page_filter>(adv.filter(newer.records(), "p", key)));
  CHECK(adv.advanced(true) == "2024-06-02T00:00:00Z");
  CHECK(adv.after_run(true) == "2024-06-02T00:00:00Z");
  // A run that did not read its whole window moves nothing; the state keeps
  // showing the previous cursor.
  CHECK_FALSE(adv.advanced(false));
  CHECK(adv.after_run(false) == "2024-06-01T00:00:00Z");
}

TEST_CASE("a first run with nothing seen has no cursor to store") {
  auto rc = resource();
  cursor_advance adv(*rc.endpoint.incremental, planned(rc, {}), rc.name);
  CHECK_FALSE(adv.advanced(true));
  CHECK_FALSE(adv.after_run(true));
  CHECK_FALSE(adv.after_run(false));
}

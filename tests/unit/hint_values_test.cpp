// How values meet hinted columns: timestamp, date and decimal conversions,
// text that takes every value, variants for what does not fit, and stored
// values converted for a hint added later.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "restsync/paging/page.hpp"
#include "restsync/store/record_key.hpp"
#include "restsync/store/schema.hpp"
#include "restsync/store/stored_value.hpp"

using namespace restsync;

namespace {

page records(std::string array) {
  auto r = page::read(std::move(array), page_spec("$"));
  if (const auto* e = std::get_if<page_error>(&r)) FAIL(e->message);
  return std::move(std::get<page>(r));
}

// One JSON value, as a page holds it (big numbers and verbatim doubles marked).
struct value {
  explicit value(std::string json) : p(records("[{\"v\":" + json + "}]")) {}
  const rapidjson::Value& operator*() const { return (*p.records()[0])["v"]; }
  page p;
};

std::optional<std::string> ts(const std::string& json) { return timestamptz_text(*value(json)); }

std::optional<std::string> pg_text(const std::string& json, pg_type t) {
  return to_pg_text(*value(json), t);
}

}  // namespace

TEST_CASE("timestamp: epoch seconds, epoch milliseconds and ISO-8601 as timestamptz text") {
  CHECK(ts("1700000000") == "2023-11-14 22:13:20+00");
  CHECK(ts("1700000000.5") == "2023-11-14 22:13:20.500000+00");
  // From 1e11 on a number is milliseconds (1e11 seconds would be the year 5138).
  CHECK(ts("1700000000123") == "2023-11-14 22:13:20.123000+00");
  CHECK(ts("99999999999") == "5138-11-16 09:46:39+00");
  CHECK(ts("100000000000") == "1973-03-03 09:46:40+00");
  CHECK(ts("0") == "1970-01-01 00:00:00+00");
  CHECK(ts("-1") == "1969-12-31 23:59:59+00");
  CHECK(ts("\"1700000000\"") == "2023-11-14 22:13:20+00");
  CHECK(ts("\"2024-02-29T12:00:00+01:00\"") == "2024-02-29 11:00:00+00");
  CHECK(ts("\"2024-02-29 12:00:00.123456789Z\"") == "2024-02-29 12:00:00.123456+00");
  CHECK(ts("\"2024-02-29\"") == "2024-02-29 00:00:00+00");
  CHECK_FALSE(ts("\"2023-02-29\""));
  CHECK_FALSE(ts("\"not a time\""));
  CHECK_FALSE(ts("\"\""));
  CHECK_FALSE(ts("true"));
  CHECK_FALSE(ts("{}"));
  CHECK_FALSE(ts("[1700000000]"));
  // Years 1 to 9999 only (PostgreSQL's text would need BC or a 5-digit year).
  CHECK_FALSE(ts("-62135596801"));
  CHECK(ts("\"0001-01-01T00:00:00Z\"") == "0001-01-01 00:00:00+00");
  CHECK_FALSE(ts("1e300"));
  CHECK_FALSE(ts("-9223372036854775"));  // milliseconds near the end of int64 microseconds
  CHECK(ts("253402300799999") == "9999-12-31 23:59:59.999000+00");
  CHECK_FALSE(ts("253402300800000"));
  CHECK_FALSE(ts("123456789012345678901234567890"));
}

TEST_CASE("decide: what fits a timestamptz, date, numeric(p,s) or hinted text column") {
  CHECK(decide(pg_type::timestamptz, *value("1700000000")) ==
        placement{pg_type::timestamptz, false});
  CHECK(decide(pg_type::timestamptz, *value("\"2024-01-01\"")) ==
        placement{pg_type::timestamptz, false});
  CHECK(decide(pg_type::timestamptz, *value("\"soon\"")) == placement{pg_type::text, true});
  CHECK(decide(pg_type::timestamptz, *value("true")) == placement{pg_type::boolean, true});
  CHECK(decide(pg_type::timestamptz, *value("{\"a\":1}")) == placement{pg_type::jsonb, true});
  CHECK(decide(pg_type::timestamptz, *value("null")) == placement{pg_type::timestamptz, false});
  CHECK(decide(pg_type::timestamptz, *value("1e300")) ==
        placement{pg_type::double_precision, true});

  CHECK(decide(pg_type::date, *value("\"2024-02-29\"")) == placement{pg_type::date, false});
  CHECK(decide(pg_type::date, *value("\"2024-02-30\"")) == placement{pg_type::text, true});
  CHECK(decide(pg_type::date, *value("\"2024-02-29T00:00:00Z\"")) ==
        placement{pg_type::text, true});
  CHECK(decide(pg_type::date, *value("20240229")) == placement{pg_type::bigint, true});

  const fit_rules money{false, 6, 2};
  CHECK(decide(pg_type::numeric, *value("1234.5"), money) == placement{pg_type::numeric, false});
  CHECK(decide(pg_type::numeric, *value("-9999.99"), money) == placement{pg_type::numeric, false});
  CHECK(decide(pg_type::numeric, *value("10000"), money) == placement{pg_type::bigint, true});
  CHECK(decide(pg_type::numeric, *value("1.234"), money) ==
        placement{pg_type::double_precision, true});
  CHECK(decide(pg_type::numeric, *value("\"12\""), money) == placement{pg_type::text, true});
  CHECK(decide(pg_type::numeric, *value("123456789012345678901234"), {false, 30, 0}) ==
        placement{pg_type::numeric, false});
  CHECK(decide(pg_type::numeric, *value("123456789012345678901234"), {false, 20, 0}) ==
        placement{pg_type::numeric, true});
  // Without precision numeric takes any number, as before.
  CHECK(decide(pg_type::numeric, *value("1.234")) == placement{pg_type::numeric, false});

  const fit_rules text_hint{true, 0, 0};
  for (const char* v : {"5", "1.5", "true", "{\"a\":[1]}", "\"x\"", "99999999999999999999"}) {
    INFO(v);
    CHECK(decide(pg_type::text, *value(v), text_hint) == placement{pg_type::text, false});
  }
  CHECK(decide(pg_type::text, *value("5")) == placement{pg_type::bigint, true});  // unhinted
  CHECK(pg_text("{\"a\":[1]}", pg_type::text) == "{\"a\":[1]}");
  CHECK(pg_text("1700000000", pg_type::timestamptz) == "2023-11-14 22:13:20+00");
  CHECK(pg_text("\"2024-02-29\"", pg_type::date) == "2024-02-29");
}

TEST_CASE("fits_numeric counts the digits around the point, exponents included") {
  CHECK(fits_numeric("0", 1, 0));
  CHECK(fits_numeric("-0.00", 1, 0));
  CHECK(fits_numeric("12.50", 3, 1));
  CHECK_FALSE(fits_numeric("12.51", 3, 1));
  CHECK(fits_numeric("1e3", 4, 0));
  CHECK_FALSE(fits_numeric("1e4", 4, 0));
  CHECK(fits_numeric("1.5E-2", 3, 3));
  CHECK_FALSE(fits_numeric("1.5e-3", 3, 3));
  CHECK(fits_numeric("000123", 3, 0));
  CHECK_FALSE(fits_numeric("abc", 10, 0));
  CHECK_FALSE(fits_numeric("1e", 10, 0));
}

TEST_CASE("column types: numeric(p,s) written and read back as _rs_columns keeps them") {
  CHECK(sql_type({pg_type::numeric, 10, 2}) == "numeric(10,2)");
  CHECK(sql_type({pg_type::timestamptz, 0, 0}) == "timestamptz");
  CHECK(parse_sql_type("numeric(10,2)") == column_type{pg_type::numeric, 10, 2});
  CHECK(parse_sql_type("numeric(7)") == column_type{pg_type::numeric, 7, 0});
  CHECK(parse_sql_type("date") == column_type{pg_type::date, 0, 0});
  CHECK(parse_sql_type("timestamp with time zone") == column_type{pg_type::timestamptz, 0, 0});
  CHECK_FALSE(parse_sql_type("numeric(2,3)"));
  CHECK_FALSE(parse_sql_type("numeric(x)"));
  CHECK_FALSE(parse_sql_type("numeric(10,2"));
}

TEST_CASE("a table's hinted columns: their type, a null that makes one, misfits counted") {
  table_schema s;
  s.set_hints({{"created_on", column_type{pg_type::timestamptz, 0, 0}, false},
               {"amount", column_type{pg_type::numeric, 8, 2}, true},
               {"zip", column_type{pg_type::text, 0, 0}, false},
               {"title", std::nullopt, true}});
  auto p = records(R"([
    {"id": 1, "createdOn": 1700000000, "amount": 12.5, "zip": 12345, "title": null, "x": null},
    {"id": 2, "createdOn": "later", "amount": 1e9, "zip": "A-1", "title": "t"},
    {"id": 3, "createdOn": "never", "amount": null, "zip": null, "title": "u"}])");
  auto added = s.plan(p.records());
  std::vector<std::string> made;
  for (const auto& c : added) made.push_back(c.name + " " + sql_type(c.full_type()));
  // title has no type in its hint: its column waits for a value, as x does.
  CHECK(made == std::vector<std::string>{
                    "id bigint", "created_on timestamptz", "amount numeric(8,2)", "zip text",
                    "created_on__v_text text", "amount__v_double double precision", "title text"});
  auto misfits = s.take_misfits();
  REQUIRE(misfits.size() == 2);
  CHECK(misfits[0].column == "created_on");
  CHECK(misfits[0].variant == "created_on__v_text");
  CHECK(misfits[0].count == 2);
  CHECK(misfits[1].column == "amount");
  CHECK(s.take_misfits().empty());

  row_text row;
  s.fill_row(*p.records()[0], row);
  CHECK(row[1] == "2023-11-14 22:13:20+00");
  CHECK(row[3] == "12345");
  s.fill_row(*p.records()[1], row);
  CHECK_FALSE(row[1]);
  CHECK(row[4] == "later");
  CHECK(row[3] == "A-1");

  SUBCASE("a hinted field seen only as null gets its column") {
    table_schema t;
    t.set_hints({{"created_on", column_type{pg_type::timestamptz, 0, 0}, false}});
    auto q = records(R"([{"id": 1, "createdOn": null, "other": null}])");
    auto cols = t.plan(q.records());
    REQUIRE(cols.size() == 2);
    CHECK(cols[1].name == "created_on");
    CHECK(cols[1].type == pg_type::timestamptz);
  }
  SUBCASE("a hint on an existing column does not change its type here (the catalog converts)") {
    table_schema t({{"created_on", pg_type::bigint, "createdOn", false}});
    t.set_hints({{"created_on", column_type{pg_type::timestamptz, 0, 0}, false}});
    auto q = records(R"([{"createdOn": "x"}])");
    auto cols = t.plan(q.records());
    REQUIRE(cols.size() == 1);
    CHECK(cols[0].name == "created_on__v_text");
    CHECK(t.take_misfits().size() == 1);
  }
}

TEST_CASE("stored values convert for a hint as records' values would") {
  const column_type ts_type{pg_type::timestamptz, 0, 0};
  CHECK(convert_stored("1700000000", {pg_type::bigint, 0, 0}, ts_type) == "2023-11-14 22:13:20+00");
  CHECK(convert_stored("1700000000123", {pg_type::bigint, 0, 0}, ts_type) ==
        "2023-11-14 22:13:20.123000+00");
  CHECK(convert_stored("1700000000.25", {pg_type::numeric, 0, 0}, ts_type) ==
        "2023-11-14 22:13:20.250000+00");
  CHECK(convert_stored("1700000000.5", {pg_type::double_precision, 0, 0}, ts_type) ==
        "2023-11-14 22:13:20.500000+00");
  CHECK(convert_stored("2024-01-01T10:00:00Z", {pg_type::text, 0, 0}, ts_type) ==
        "2024-01-01 10:00:00+00");
  CHECK_FALSE(convert_stored("Engineer", {pg_type::text, 0, 0}, ts_type));
  CHECK_FALSE(convert_stored("true", {pg_type::boolean, 0, 0}, ts_type));
  CHECK(convert_stored("\"2024-01-01\"", {pg_type::jsonb, 0, 0}, ts_type) ==
        "2024-01-01 00:00:00+00");
  // Back to text: the text a hinted text column takes for the same value.
  CHECK(convert_stored("42", {pg_type::bigint, 0, 0}, {pg_type::text, 0, 0}) == "42");
  CHECK(convert_stored("{\"a\": 1}", {pg_type::jsonb, 0, 0}, {pg_type::text, 0, 0}) == "{\"a\":1}");
  CHECK(convert_stored("2024-01-01 10:00:00+00", ts_type, {pg_type::text, 0, 0}) ==
        "2024-01-01 10:00:00+00");
  // numeric(p,s): exact or not at all.
  CHECK(convert_stored("12.5", {pg_type::numeric, 0, 0}, {pg_type::numeric, 4, 2}) == "12.5");
  CHECK_FALSE(convert_stored("12.555", {pg_type::numeric, 0, 0}, {pg_type::numeric, 4, 2}));
  CHECK(convert_stored("123456789012345678901234567890", {pg_type::numeric, 0, 0},
                       {pg_type::numeric, 30, 0}) == "123456789012345678901234567890");
  CHECK(convert_stored("2024-02-29", {pg_type::text, 0, 0}, {pg_type::date, 0, 0}) == "2024-02-29");
  CHECK_FALSE(convert_stored("1700000000", {pg_type::bigint, 0, 0}, {pg_type::date, 0, 0}));
}

TEST_CASE("an integer key in a text column keys as its digits, as the row reads back") {
  auto p = records(R"([{"id": 42}])");
  const auto& r = *p.records()[0];
  CHECK(db::comparable_key(r, {"id"}) == "[42]");
  CHECK(db::comparable_key(r, {"id"}, {pg_type::text}) == "[\"42\"]");
  db::key_builder row;
  row.add_column(pg_type::text, "42");
  CHECK(row.finish() == "[\"42\"]");
}

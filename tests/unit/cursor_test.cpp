#include "restsync/incremental/cursor.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <variant>

#include "restsync/paging/page.hpp"

using namespace restsync;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// Microseconds since the epoch by the standard library's calendar, to check
// the module's own arithmetic against.
std::int64_t utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0,
                 std::int64_t us = 0) {
  const auto t = sys_days(year(y) / mo / d) + hours(h) + minutes(mi) + seconds(s);
  return duration_cast<microseconds>(t.time_since_epoch()).count() + us;
}

cursor_value str(std::string_view s) {
  auto v = parse_cursor_string(s);
  REQUIRE_MESSAGE(v, "not a cursor: `", std::string(s), "`");
  return *v;
}

cursor_value num(std::string_view s) {
  auto v = parse_cursor_number(s);
  REQUIRE_MESSAGE(v, "not a cursor: `", std::string(s), "`");
  return *v;
}

bool string_rejected(std::string_view s) { return !parse_cursor_string(s).has_value(); }
bool number_rejected(std::string_view s) { return !parse_cursor_number(s).has_value(); }

// 2023-11-14T22:13:20Z.
constexpr std::int64_t t1700 = 1'700'000'000'000'000;

}  // namespace

TEST_CASE("epoch seconds and milliseconds as JSON numbers") {
  const auto s = num("1700000000");
  CHECK(s.micros == t1700);
  CHECK(s.form == cursor_form::epoch_seconds);
  CHECK(s.text == "1700000000");
  const auto ms = num("1700000000000");
  CHECK(ms.micros == t1700);
  CHECK(ms.form == cursor_form::epoch_millis);
  CHECK(ms.text == "1700000000000");
  CHECK(num("0").micros == 0);
  CHECK(num("0").form == cursor_form::epoch_seconds);
  CHECK(num("-0").micros == 0);
  CHECK(num("1").micros == 1'000'000);
  CHECK(t1700 == utc(2023, 11, 14, 22, 13, 20));
}

TEST_CASE("1e11 is where seconds end and milliseconds begin") {
  const auto last_seconds = num("99999999999");  // the year 5138
  CHECK(last_seconds.form == cursor_form::epoch_seconds);
  CHECK(last_seconds.micros == 99'999'999'999'000'000);
  CHECK(last_seconds.micros == utc(5138, 11, 16, 9, 46, 39));
  const auto first_millis = num("100000000000");  // 1973
  CHECK(first_millis.form == cursor_form::epoch_millis);
  CHECK(first_millis.micros == 100'000'000'000'000);
  CHECK(first_millis.micros == utc(1973, 3, 3, 9, 46, 40));

  CHECK(num("99999999999.999999").form == cursor_form::epoch_seconds);
  CHECK(num("99999999999.999999").micros == 99'999'999'999'999'999);
  CHECK(num("100000000000.5").form == cursor_form::epoch_millis);
  CHECK(num("100000000000.5").micros == 100'000'000'000'500);
  CHECK(num("1e11").form == cursor_form::epoch_millis);
  CHECK(num("1E11").micros == 100'000'000'000'000);
  CHECK(num("9.9999999999e10").form == cursor_form::epoch_seconds);
  CHECK(num("0.1e12").form == cursor_form::epoch_millis);
  CHECK(num("1000000000000e-1").form == cursor_form::epoch_millis);
  CHECK(num("999999999990e-1").form == cursor_form::epoch_seconds);

  // The magnitude decides, so the rule is the same before 1970.
  CHECK(num("-99999999999").form == cursor_form::epoch_seconds);
  CHECK(num("-100000000000").form == cursor_form::epoch_millis);
  CHECK(num("-100000000000").micros == -100'000'000'000'000);

  // Leading zeros in a string do not count.
  CHECK(str("0000100000000000").form == cursor_form::epoch_millis);
  CHECK(str("00099999999999").form == cursor_form::epoch_seconds);
}

TEST_CASE("fractions are kept to the microsecond, rounded toward negative infinity") {
  CHECK(num("1700000000.5").micros == t1700 + 500'000);
  CHECK(num("1700000000.5").text == "1700000000.5");
  CHECK(num("1700000000.000001").micros == t1700 + 1);
  CHECK(num("1700000000.1234567").micros == t1700 + 123'456);
  CHECK(num("1700000000.9999999").micros == t1700 + 999'999);
  CHECK(num("1700000000.50").text == "1700000000.50");  // as written
  CHECK(num("0.0000001").micros == 0);
  CHECK(num("-0.0000001").micros == -1);
  CHECK(num("-1.5").micros == -1'500'000);
  CHECK(num("-1.0000001").micros == -1'000'001);
  CHECK(num("-1.000000").micros == -1'000'000);

  CHECK(num("1700000000000.5").micros == t1700 + 500);
  CHECK(num("1700000000000.123").micros == t1700 + 123);
  CHECK(num("1700000000000.0009").micros == t1700);
  CHECK(num("-1700000000000.0009").micros == -t1700 - 1);
  CHECK(num("-1700000000000.001").micros == -t1700 - 1);
}

TEST_CASE("exponents") {
  CHECK(num("1.7e9").micros == t1700);
  CHECK(num("1.7e9").form == cursor_form::epoch_seconds);
  CHECK(num("1.7e9").text == "1.7e9");
  CHECK(num("17e8").micros == t1700);
  CHECK(num("1.7E+09").micros == t1700);
  CHECK(num("1.7e12").micros == t1700);
  CHECK(num("1.7e12").form == cursor_form::epoch_millis);
  CHECK(num("17000000000e-1").micros == t1700);
  CHECK(num("1.5e-6").micros == 1);
  CHECK(num("1e-7").micros == 0);
  CHECK(num("-1e-7").micros == -1);
  CHECK(num("1e-400").micros == 0);
  CHECK(num("-1e-400").micros == -1);
  CHECK(num("0e999999999999999999").micros == 0);
  CHECK(num("0.000e5").micros == 0);
}

TEST_CASE("what is not a JSON number") {
  for (const char* s :
       {"",         "-",         "+1",    "01",    "-01",   "00",    "1.",  ".5",  "-.5",
        "1e",       "1e+",       "1e-",   "1.e5",  "0x10",  " 1",    "1 ",  "1,5", "NaN",
        "Infinity", "-Infinity", "1_000", "\"1\"", "1.5.5", "1e5e5", "--1", "1-"}) {
    CHECK_MESSAGE(number_rejected(s), s);
  }
}

TEST_CASE("beyond int64 microseconds") {
  CHECK(num("9223372036854775").micros == 9'223'372'036'854'775'000);
  CHECK(num("9223372036854775.807").micros == int64_max);
  CHECK(number_rejected("9223372036854775.808"));
  CHECK(number_rejected("9223372036854776"));
  CHECK(num("-9223372036854775.808").micros == int64_min);
  CHECK(number_rejected("-9223372036854775.8081"));
  CHECK(number_rejected("-9223372036854775.809"));
  CHECK(number_rejected("-9223372036854776"));
  CHECK(number_rejected("123456789012345678901234567890"));
  CHECK(number_rejected("1e400"));
  CHECK(number_rejected("1e999999999999999999999999"));
  CHECK(number_rejected("-1e19"));
  CHECK(number_rejected("18446744073709551615"));
  CHECK(num("9.223372036854775807e15").micros == int64_max);
}

TEST_CASE("epoch times inside strings") {
  CHECK(str("1700000000").micros == t1700);
  CHECK(str("1700000000").form == cursor_form::epoch_seconds);
  CHECK(str("1700000000000").form == cursor_form::epoch_millis);
  CHECK(str("1700000000000").micros == t1700);
  CHECK(str("1700000000.25").micros == t1700 + 250'000);
  CHECK(str("1700000000.25").text == "1700000000.25");
  CHECK(str("-5").micros == -5'000'000);
  CHECK(str("007").micros == 7'000'000);
  CHECK(str("2024").micros == 2024'000'000);                  // a number, not a year
  CHECK(str("20240101").form == cursor_form::epoch_seconds);  // nor a basic-format date
  for (const char* s : {"1.7e9", "+5", "1.", ".5", "-", "1 ", " 1", "1,5", "0x10", "--1"}) {
    CHECK_MESSAGE(string_rejected(s), s);
  }
  CHECK(string_rejected("9223372036854776"));
}

TEST_CASE("ISO-8601: every form of the time") {
  CHECK(str("2023-11-14").micros == utc(2023, 11, 14));
  CHECK(str("2023-11-14").form == cursor_form::iso8601);
  CHECK(str("2023-11-14T22:13").micros == utc(2023, 11, 14, 22, 13));
  CHECK(str("2023-11-14T22:13:20").micros == t1700);
  CHECK(str("2023-11-14T22:13:20Z").micros == t1700);
  CHECK(str("2023-11-14t22:13:20z").micros == t1700);
  CHECK(str("2023-11-14 22:13:20Z").micros == t1700);
  CHECK(str("2023-11-14 22:13").micros == utc(2023, 11, 14, 22, 13));
  CHECK(str("2023-11-14T22:13Z").micros == utc(2023, 11, 14, 22, 13));
  CHECK(str("2023-11-14T22:13:20.5Z").micros == t1700 + 500'000);
  CHECK(str("2023-11-14T22:13:20.12Z").micros == t1700 + 120'000);
  CHECK(str("2023-11-14T22:13:20.123Z").micros == t1700 + 123'000);
  CHECK(str("2023-11-14T22:13:20.1234Z").micros == t1700 + 123'400);
  CHECK(str("2023-11-14T22:13:20.12345Z").micros == t1700 + 123'450);
  CHECK(str("2023-11-14T22:13:20.123456Z").micros == t1700 + 123'456);
  CHECK(str("2023-11-14T22:13:20.1234567Z").micros == t1700 + 123'456);
  CHECK(str("2023-11-14T22:13:20.12345678Z").micros == t1700 + 123'456);
  CHECK(str("2023-11-14T22:13:20.999999999Z").micros == t1700 + 999'999);
  CHECK(str("2023-11-14T22:13:20.000000999").micros == t1700);
  CHECK(str("2023-11-14T22:13:20.5+01:00").micros == t1700 - 3'600'000'000 + 500'000);
  CHECK(str("2023-11-14T22:13:20.5Z").text == "2023-11-14T22:13:20.5Z");
}

TEST_CASE("ISO-8601: every form of the zone") {
  CHECK(str("2023-11-14T23:13:20+01:00").micros == t1700);
  CHECK(str("2023-11-14T23:13:20+0100").micros == t1700);
  CHECK(str("2023-11-14T23:13:20+01").micros == t1700);
  CHECK(str("2023-11-14T17:13:20-05:00").micros == t1700);
  CHECK(str("2023-11-14T17:13:20-0500").micros == t1700);
  CHECK(str("2023-11-14T17:13:20-05").micros == t1700);
  CHECK(str("2023-11-15T03:43:20+05:30").micros == t1700);
  CHECK(str("2023-11-14T18:43:20-03:30").micros == t1700);
  CHECK(str("2023-11-14T22:13:20+00:00").micros == t1700);
  CHECK(str("2023-11-14T22:13:20-00:00").micros == t1700);
  CHECK(str("2023-11-14T22:13:20+0000").micros == t1700);
  CHECK(str("2023-11-15T22:12:20+23:59").micros == t1700);
  CHECK(str("2023-11-14T23:13+01:00").micros == t1700 - 20'000'000);
  // Offsets that cross midnight, a month and a year.
  CHECK(str("2024-01-01T00:30:00+01:00").micros == utc(2023, 12, 31, 23, 30));
  CHECK(str("2023-12-31T23:30:00-01:00").micros == utc(2024, 1, 1, 0, 30));
  CHECK(str("2024-03-01T00:00:00+00:01").micros == utc(2024, 2, 29, 23, 59));
}

TEST_CASE("ISO-8601: a leap second is the first second of the next minute") {
  CHECK(str("2016-12-31T23:59:60Z").micros == utc(2017, 1, 1));
  CHECK(str("2016-12-31T23:59:60.5Z").micros == utc(2017, 1, 1, 0, 0, 0, 500'000));
  CHECK(str("2016-12-31T23:59:60Z").text == "2016-12-31T23:59:60Z");
}

TEST_CASE("ISO-8601: impossible dates and times") {
  CHECK(str("2024-02-29").micros == utc(2024, 2, 29));
  CHECK(str("2000-02-29").micros == utc(2000, 2, 29));
  CHECK(str("0000-02-29").micros == utc(0, 2, 29));
  CHECK(str("2024-01-31").micros == utc(2024, 1, 31));
  CHECK(str("2024-12-31T23:59:59.999999Z").micros == utc(2024, 12, 31, 23, 59, 59, 999'999));
  for (const char* s :
       {"2023-02-29", "1900-02-29", "2100-02-29", "2024-02-30", "2024-04-31", "2024-06-31",
        "2024-09-31", "2024-11-31", "2024-01-32", "2024-13-01", "2024-00-10", "2024-01-00",
        "2024-01-01T24:00", "2024-01-01T24:00:00Z", "2024-01-01T23:60", "2024-01-01T23:59:61Z",
        "2024-01-01T99:00", "2024-01-01T10:00:00+24:00", "2024-01-01T10:00:00+01:60"}) {
    CHECK_MESSAGE(string_rejected(s), s);
  }
}

TEST_CASE("ISO-8601: garbage and trailing junk") {
  for (const char* s : {"",
                        " ",
                        "yesterday",
                        "now",
                        "2024-1-01",
                        "2024-01-1",
                        "24-01-01",
                        "12024-01-01",
                        "-2024-01-01",
                        "+2024-01-01",
                        "2024/01/01",
                        "20240101T100000Z",
                        "2024-01",
                        "2024-01-01T",
                        "2024-01-01T10",
                        "2024-01-01T10:",
                        "2024-01-01T10:0",
                        "2024-01-01T1:00",
                        "2024-01-01T10:00:",
                        "2024-01-01T10:00:0",
                        "2024-01-01T10:00:00.",
                        "2024-01-01T10:00:00.Z",
                        "2024-01-01T10:00:00,5Z",
                        "2024-01-01T10:00:00.1234567890Z",
                        "2024-01-01Z",
                        "2024-01-01+01:00",
                        "2024-01-01 ",
                        " 2024-01-01",
                        "2024-01-01  10:00",
                        "2024-01-01x10:00",
                        "2024-01-01_10:00",
                        "2024-01-01T10:00:00Zjunk",
                        "2024-01-01T10:00:00ZZ",
                        "2024-01-01T10:00:00 Z",
                        "2024-01-01T10:00:00UTC",
                        "2024-01-01T10:00:00GMT",
                        "2024-01-01T10:00:00+1",
                        "2024-01-01T10:00:00+100",
                        "2024-01-01T10:00:00+01:",
                        "2024-01-01T10:00:00+01:0",
                        "2024-01-01T10:00:00+01:00:00",
                        "2024-01-01T10:00:00+01:00Z",
                        "2024-01-01T10:00:00+",
                        "2024-01-01T10:00:00 +01:00",
                        "2024-01-01T10:00:00\n",
                        "2024-0a-01",
                        "Mon, 01 Jan 2024 10:00:00 GMT"}) {
    CHECK_MESSAGE(string_rejected(s), s);
  }
  CHECK(string_rejected(std::string_view("2024-01-01\0", 11)));
}

TEST_CASE("before 1970") {
  CHECK(num("-1").micros == -1'000'000);
  CHECK(num("-86400").micros == str("1969-12-31T00:00:00Z").micros);
  CHECK(str("1969-12-31T23:59:59.999999Z").micros == -1);
  CHECK(str("1969-12-31T23:59:59.5Z").micros == -500'000);
  CHECK(str("1900-01-01T00:00:00Z").micros == -2'208'988'800'000'000);
  CHECK(str("0001-01-01T00:00:00Z").micros == -62'135'596'800'000'000);
  CHECK(str("0000-01-01").micros == utc(0, 1, 1));
  CHECK(num("-2208988800").micros == utc(1900, 1, 1));
  CHECK(num("-2208988800000").micros == utc(1900, 1, 1));
  CHECK(num("-2208988800000").form == cursor_form::epoch_millis);
}

TEST_CASE("every day from 1600 to 2400 against the standard library's calendar") {
  const sys_days first = year(1600) / 1 / 1;
  const sys_days last = year(2400) / 12 / 31;
  int mismatches = 0;
  for (sys_days d = first; d <= last; d += days(1)) {
    const year_month_day ymd(d);
    const std::string date =
        fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                    static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    const std::int64_t micros = duration_cast<microseconds>(d.time_since_epoch()).count();
    const auto parsed = parse_cursor_string(date);
    const std::string rendered = cursor_at(micros, cursor_form::iso8601).text;
    if (!parsed || parsed->micros != micros || rendered != date + "T00:00:00Z") {
      if (++mismatches < 5) FAIL_CHECK(date << " read or rendered as " << rendered);
    }
    // The last day of each month is valid; the day after it is not.
    if (ymd.day() == year_month_day_last(ymd.year(), month_day_last(ymd.month())).day()) {
      const std::string day_after =
          fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()) + 1);
      if (parse_cursor_string(day_after) && ++mismatches < 5) FAIL_CHECK(day_after);
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("cursors compare as points in time across forms") {
  const cursor_value forms[] = {num("1700000000"),
                                num("1700000000000"),
                                str("1700000000"),
                                str("1700000000000"),
                                str("2023-11-14T22:13:20Z"),
                                str("2023-11-14T23:13:20+01:00"),
                                num("1.7e9"),
                                str("2023-11-14T22:13:20.000Z"),
                                num("1700000000.0000001")};
  for (const auto& a : forms) {
    for (const auto& b : forms) {
      CHECK(compare(a, b) == 0);
      CHECK(a == b);
      CHECK((a <=> b) == std::strong_ordering::equal);
    }
  }
  const auto earlier = str("2023-11-14T22:13:19.999999Z");
  const auto later = num("1700000000000.001");
  const auto half = num("1700000000.5");
  for (const auto& a : forms) {
    CHECK(compare(earlier, a) == -1);
    CHECK(compare(a, earlier) == 1);
    CHECK(earlier < a);
    CHECK(later > a);
    CHECK(half > a);
    CHECK(a != half);
  }
  CHECK(later < half);
  CHECK(num("-1") < num("0"));
  CHECK(str("1969-12-31") < num("-1"));
  CHECK(num("-100000000000") > num("-99999999999"));  // -1e11 ms is 1966, -99999999999 s is -1199
}

TEST_CASE("minus in epoch seconds") {
  const auto v = num("1700000000");
  CHECK(minus(v, 10min).text == "1699999400");
  CHECK(minus(v, 10min).micros == t1700 - 600'000'000);
  CHECK(minus(v, 10min).form == cursor_form::epoch_seconds);
  CHECK(minus(v, 1500ms).text == "1699999998.5");
  CHECK(minus(v, 1us).text == "1699999999.999999");
  CHECK(minus(v, 10us).text == "1699999999.99999");
  CHECK(minus(v, -250ms).text == "1700000000.25");
  CHECK(minus(num("1700000000.25"), 250ms).text == "1700000000");
  CHECK(minus(num("1.7e9"), 1s).text == "1699999999");
  CHECK(minus(num("1"), 2500ms).text == "-1.5");
  CHECK(minus(num("0"), 1us).text == "-0.000001");
  CHECK(minus(num("0"), 1s).text == "-1");
  CHECK(minus(num("0.5"), 500ms).text == "0");
}

TEST_CASE("minus in epoch milliseconds") {
  const auto v = num("1700000000000");
  CHECK(minus(v, 1s).text == "1699999999000");
  CHECK(minus(v, 1s).form == cursor_form::epoch_millis);
  CHECK(minus(v, 1ms).text == "1699999999999");
  CHECK(minus(v, 1us).text == "1699999999999.999");
  CHECK(minus(v, 1500us).text == "1699999999998.5");
  CHECK(minus(v, 10us).text == "1699999999999.99");
  CHECK(minus(num("1700000000000.5"), 500us).text == "1700000000000");
  CHECK(minus(cursor_at(0, cursor_form::epoch_millis), 500us).text == "-0.5");
  CHECK(minus(num("-100000000000"), 1ms).text == "-100000000001");
}

TEST_CASE("minus in ISO-8601: UTC, the fraction only when there is one") {
  const auto v = str("2023-11-14T23:13:20+01:00");
  CHECK(minus(v, 10min).text == "2023-11-14T22:03:20Z");
  CHECK(minus(v, 10min).form == cursor_form::iso8601);
  CHECK(minus(v, 1us).text == "2023-11-14T22:13:19.999999Z");
  CHECK(minus(v, 500ms).text == "2023-11-14T22:13:19.5Z");
  CHECK(minus(v, 10us).text == "2023-11-14T22:13:19.99999Z");
  CHECK(minus(str("2024-03-01"), 24h).text == "2024-02-29T00:00:00Z");
  CHECK(minus(str("2023-03-01"), 24h).text == "2023-02-28T00:00:00Z");
  CHECK(minus(str("2024-01-01T00:00:00.5Z"), 250ms).text == "2024-01-01T00:00:00.25Z");
  CHECK(minus(str("2024-01-01t00:00:00.5z"), 500ms).text == "2024-01-01T00:00:00Z");
  CHECK(minus(str("1970-01-01T00:00:00Z"), 1s).text == "1969-12-31T23:59:59Z");
  CHECK(minus(str("0000-01-01"), 24h).text == "-0001-12-31T00:00:00Z");
  CHECK(minus(str("2016-12-31T23:59:60Z"), 1s).text == "2016-12-31T23:59:59Z");
}

TEST_CASE("minus by zero keeps the text as written") {
  for (const auto& v : {num("1.7e9"), num("1700000000.50"), num("1700000000000.0"),
                        str("2023-11-14t23:13:20.120+0100"), str("2023-11-14")}) {
    const auto same = minus(v, 0us);
    CHECK(same.text == v.text);
    CHECK(same.form == v.form);
    CHECK(same.micros == v.micros);
  }
}

TEST_CASE("minus saturates at the int64 range") {
  CHECK(minus(cursor_at(int64_min + 5, cursor_form::epoch_seconds), 10us).micros == int64_min);
  CHECK(minus(cursor_at(int64_max - 5, cursor_form::epoch_seconds), -10us).micros == int64_max);
  CHECK(minus(cursor_at(int64_min, cursor_form::epoch_seconds), 1us).text ==
        "-9223372036854.775808");
  CHECK(minus(cursor_at(int64_max, cursor_form::epoch_millis), -1us).text ==
        "9223372036854775.807");
}

TEST_CASE("cursor_at renders what parse reads back") {
  const std::int64_t points[] = {0,
                                 1,
                                 -1,
                                 999'999,
                                 -999'999,
                                 1'000'000,
                                 -1'500'000,
                                 t1700,
                                 t1700 + 1,
                                 t1700 + 120'000,
                                 t1700 - 1,
                                 utc(1900, 1, 1, 0, 0, 0, 1),
                                 utc(2400, 2, 29, 23, 59, 59, 999'999),
                                 utc(9999, 12, 31, 23, 59, 59, 999'999),
                                 utc(0, 1, 1),
                                 int64_max,
                                 int64_min};
  for (std::int64_t micros : points) {
    for (cursor_form form :
         {cursor_form::epoch_seconds, cursor_form::epoch_millis, cursor_form::iso8601}) {
      const auto v = cursor_at(micros, form);
      CAPTURE(v.text);
      CHECK(v.micros == micros);
      CHECK(v.form == form);
      // Read back as a configuration value is: an epoch number's unit is
      // guessed from its magnitude (1e11), so only where the guess is the form.
      const auto back = parse_cursor_config(v.text);
      const bool iso_out_of_range =
          form == cursor_form::iso8601 && (micros < utc(0, 1, 1) || micros > utc(10000, 1, 1));
      if (iso_out_of_range) {
        CHECK_FALSE(back);
        continue;
      }
      if (form != cursor_form::iso8601) {
        const double value = static_cast<double>(micros) /
                             (form == cursor_form::epoch_seconds ? 1'000'000.0 : 1'000.0);
        if ((form == cursor_form::epoch_seconds) != (std::abs(value) < 1e11)) continue;
      }
      REQUIRE(back);
      CHECK(back->micros == micros);
      CHECK(back->form == form);
      CHECK(back->text == v.text);
    }
  }
  CHECK(cursor_at(t1700, cursor_form::epoch_seconds).text == "1700000000");
  CHECK(cursor_at(t1700, cursor_form::epoch_millis).text == "1700000000000");
  CHECK(cursor_at(t1700, cursor_form::iso8601).text == "2023-11-14T22:13:20Z");
  CHECK(cursor_at(t1700 + 120'000, cursor_form::iso8601).text == "2023-11-14T22:13:20.12Z");
  // -2^63 µs: 106,751,992 days before 1970 less 19:59:05.224192.
  const year_month_day far(sys_days(days(-106'751'992)));
  CHECK(far == year(-290308) / December / 21);
  CHECK(cursor_at(int64_min, cursor_form::iso8601).text == "-290308-12-21T19:59:05.224192Z");

  // As written, read, rendered and read again: the same point in time.
  for (const char* s : {"1700000000.123456", "-1.5", "1700000000000.5", "2023-11-14T23:13:20+01:00",
                        "1969-12-31T23:59:59.9999999Z", "2024-02-29 12:00"}) {
    const auto v = str(s);
    CHECK(str(cursor_at(v.micros, v.form).text) == v);
  }
}

TEST_CASE("configuration values: numbers first, then the string rules") {
  REQUIRE(parse_cursor_config("1.7e9"));
  CHECK(parse_cursor_config("1.7e9")->micros == t1700);
  CHECK(parse_cursor_config("1700000000")->form == cursor_form::epoch_seconds);
  CHECK(parse_cursor_config("1700000000000")->form == cursor_form::epoch_millis);
  CHECK(parse_cursor_config("007")->micros == 7'000'000);
  CHECK(parse_cursor_config("2024-01-01T00:00:00Z")->micros == utc(2024, 1, 1));
  CHECK(parse_cursor_config("2024-01-01")->form == cursor_form::iso8601);
  CHECK(parse_cursor_config("2024-01-01T00:00:00Z")->text == "2024-01-01T00:00:00Z");
  CHECK_FALSE(parse_cursor_config(""));
  CHECK_FALSE(parse_cursor_config("yesterday"));
  CHECK_FALSE(parse_cursor_config("true"));
  CHECK_FALSE(parse_cursor_config("2024-01-01T00:00:00 UTC"));
}

TEST_CASE("JSON values as page.hpp holds them") {
  auto r = page::read(R"([
    {"c": 1700000000}, {"c": 1700000000000}, {"c": 1.7e9}, {"c": 1700000000.5},
    {"c": "2023-11-14T23:13:20+01:00"}, {"c": "1700000000"}, {"c": -5},
    {"c": 1700000000.0000000001}, {"c": 123456789012345678901234}, {"c": 18446744073709551615},
    {"c": null}, {"c": true}, {"c": {}}, {"c": []}, {"c": "soon"}, {"c": 1e-7}, {"c": 1e300}
  ])",
                      page_spec("$"));
  REQUIRE(std::holds_alternative<page>(r));
  const auto& records = std::get<page>(r).records();
  REQUIRE(records.size() == 17);
  auto at = [&](std::size_t i) { return parse_cursor_json((*records[i])["c"]); };

  REQUIRE(at(0));
  CHECK(at(0)->micros == t1700);
  CHECK(at(0)->text == "1700000000");
  CHECK(at(1)->form == cursor_form::epoch_millis);
  CHECK(at(1)->micros == t1700);
  CHECK(at(2)->text == "1700000000");  // a double: its shortest form, without exponent
  CHECK(at(2)->micros == t1700);
  CHECK(at(3)->text == "1700000000.5");
  CHECK(at(3)->micros == t1700 + 500'000);
  CHECK(at(4)->form == cursor_form::iso8601);
  CHECK(at(4)->micros == t1700);
  CHECK(at(5)->micros == t1700);
  CHECK(at(6)->text == "-5");
  // A verbatim double keeps its literal and its exact value.
  CHECK(at(7)->text == "1700000000.0000000001");
  CHECK(at(7)->micros == t1700);
  CHECK_FALSE(at(8));  // a big number, far beyond the range
  CHECK_FALSE(at(9));  // a uint64, beyond int64 microseconds as milliseconds
  for (std::size_t i = 10; i < 15; ++i) CHECK_FALSE(at(i));
  CHECK(at(15)->micros == 0);
  CHECK(at(15)->text == "0.0000001");
  CHECK_FALSE(at(16));
}

TEST_CASE("describe") {
  CHECK(describe(cursor_form::epoch_seconds) == "epoch seconds");
  CHECK(describe(cursor_form::epoch_millis) == "epoch milliseconds");
  CHECK(describe(cursor_form::iso8601) == "ISO-8601 date-time");
}

#include "restsync/store/pg_time.hpp"

#include <doctest/doctest.h>

using namespace restsync;
using namespace std::chrono;

namespace {

system_clock::time_point utc(int y, unsigned mo, unsigned d, int h, int mi, int s,
                             microseconds frac = microseconds(0)) {
  return time_point_cast<system_clock::duration>(sys_days(year(y) / mo / d) + hours(h) +
                                                 minutes(mi) + seconds(s) + frac);
}

}  // namespace

TEST_CASE("timestamptz text in any session time zone") {
  CHECK(parse_pg_timestamptz("2024-05-01 12:34:56+00") == utc(2024, 5, 1, 12, 34, 56));
  CHECK(parse_pg_timestamptz("2024-05-01 14:34:56+02") == utc(2024, 5, 1, 12, 34, 56));
  CHECK(parse_pg_timestamptz("2024-05-01 09:04:56.5-03:30") ==
        utc(2024, 5, 1, 12, 34, 56, milliseconds(500)));
  CHECK(parse_pg_timestamptz("2024-05-01 12:34:56.123456+00") ==
        utc(2024, 5, 1, 12, 34, 56, microseconds(123456)));
  CHECK(parse_pg_timestamptz("2024-05-01T12:34:56Z") == utc(2024, 5, 1, 12, 34, 56));
  CHECK(parse_pg_timestamptz("2024-01-01 00:30:00+01") == utc(2023, 12, 31, 23, 30, 0));
}

TEST_CASE("what is not a timestamptz") {
  CHECK_FALSE(parse_pg_timestamptz(""));
  CHECK_FALSE(parse_pg_timestamptz("2024-05-01"));
  CHECK_FALSE(parse_pg_timestamptz("2024-05-01 12:34:56"));  // no zone
  CHECK_FALSE(parse_pg_timestamptz("2024-13-01 12:34:56+00"));
  CHECK_FALSE(parse_pg_timestamptz("2024-02-30 12:34:56+00"));
  CHECK_FALSE(parse_pg_timestamptz("2024-05-01 12:34:56.+00"));
  CHECK_FALSE(parse_pg_timestamptz("2024-05-01 12:34:56+00 trailing"));
  CHECK_FALSE(parse_pg_timestamptz("infinity"));
}

TEST_CASE("format_utc") {
  CHECK(format_utc(utc(2024, 5, 1, 12, 34, 56, milliseconds(900))) == "2024-05-01T12:34:56Z");
}

#include "restsync/observe/run_counters.hpp"

#include <doctest/doctest.h>

using namespace restsync;

TEST_CASE("counters add up field by field, and responses status by status") {
  run_counters total;
  run_counters a;
  a.pages = 2;
  a.records = 100;
  a.inserted = 90;
  a.updated = 4;
  a.unchanged = 6;
  a.filtered = 3;
  a.deleted = 1;
  a.rescans = 1;
  a.requests = 5;
  a.responses_by_status = {{200, 3}, {503, 1}};
  a.transport_errors = 1;
  a.retries = 2;
  a.rate_limited = 0;
  a.gate_wait_seconds = 0.5;
  a.seconds = 2;
  run_counters b;
  b.requests = 3;
  b.responses_by_status = {{200, 2}, {429, 1}};
  b.rate_limited = 1;
  b.gate_wait_seconds = 1.25;
  b.seconds = 1;
  total += a;
  total += b;
  CHECK(total.pages == 2);
  CHECK(total.records == 100);
  CHECK(total.inserted == 90);
  CHECK(total.updated == 4);
  CHECK(total.unchanged == 6);
  CHECK(total.filtered == 3);
  CHECK(total.deleted == 1);
  CHECK(total.rescans == 1);
  CHECK(total.requests == 8);
  CHECK(total.responses_by_status == std::map<int, std::int64_t>{{200, 5}, {429, 1}, {503, 1}});
  CHECK(total.transport_errors == 1);
  CHECK(total.retries == 2);
  CHECK(total.rate_limited == 1);
  CHECK(total.gate_wait_seconds == 1.75);
  CHECK(total.seconds == 3);
}

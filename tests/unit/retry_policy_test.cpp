#include "restsync/flow/retry_policy.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace chr = std::chrono;
using restsync::attempt_outcome;
using restsync::parse_http_date;
using restsync::parse_retry_after;
using restsync::retry_action;
using restsync::retry_counts;
using restsync::retry_decision;
using restsync::retry_policy;
using restsync::retry_settings;
using restsync::transport_error;
using sys_time = chr::system_clock::time_point;

namespace {

// Friday 2025-03-14 12:00:00 UTC.
const sys_time now = sys_time{chr::sys_days{chr::year{2025} / 3 / 14}} + 12h;

sys_time utc(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  return sys_time{chr::sys_days{chr::year{y} / m / d}} + chr::hours{hh} + chr::minutes{mm} +
         chr::seconds{ss};
}

// u = 0.5 makes the jitter factor exactly 1.
constexpr double mid = 0.5;

retry_decision once(const attempt_outcome& o, const retry_settings& s = {}, double u = mid) {
  retry_counts used;
  return retry_policy{s}.decide(used, o, now, u);
}

}  // namespace

TEST_CASE("2xx is done") {
  for (int status : {200, 201, 204, 299}) {
    auto d = once(attempt_outcome::http(status));
    CHECK(d.action == retry_action::done);
    CHECK(d.wait == 0ms);
    CHECK_FALSE(d.pause_all_until);
  }
  CHECK(once(attempt_outcome::http(200)).reason == "HTTP 200");
  // A Retry-After on a success means nothing.
  CHECK(once(attempt_outcome::http(200, "30")).action == retry_action::done);
}

TEST_CASE("settings are validated") {
  auto bad = [](auto mutate) {
    retry_settings s;
    mutate(s);
    CHECK_THROWS_AS(retry_policy{s}, std::invalid_argument);
  };
  bad([](retry_settings& s) { s.max_retries = -1; });
  bad([](retry_settings& s) { s.max_rate_limit_retries = -1; });
  bad([](retry_settings& s) { s.backoff_factor = -1; });
  bad([](retry_settings& s) { s.backoff_factor = std::nan(""); });
  bad([](retry_settings& s) { s.max_backoff = -1ms; });
  bad([](retry_settings& s) { s.max_retry_after = -1ms; });
  bad([](retry_settings& s) { s.min_rate_limit_wait = -1ms; });
  CHECK_NOTHROW(retry_policy{retry_settings{}});
}

TEST_CASE("backoff doubles from backoff_factor seconds and is capped") {
  retry_policy p{retry_settings{}};
  CHECK(p.backoff(1, mid) == 2s);
  CHECK(p.backoff(2, mid) == 4s);
  CHECK(p.backoff(3, mid) == 8s);
  CHECK(p.backoff(5, mid) == 32s);
  CHECK(p.backoff(6, mid) == 60s);
  CHECK(p.backoff(1000, mid) == 60s);  // 2^999 overflows nothing

  retry_settings zero;
  zero.backoff_factor = 0;
  CHECK(retry_policy{zero}.backoff(5000, mid) == 0ms);

  retry_settings s;
  s.backoff_factor = 0.5;
  s.max_backoff = 10s;
  retry_policy q{s};
  CHECK(q.backoff(1, mid) == 500ms);
  CHECK(q.backoff(2, mid) == 1s);
  CHECK(q.backoff(5, mid) == 8s);
  CHECK(q.backoff(6, mid) == 10s);
}

TEST_CASE("jitter stays within +-25% and never above max_backoff") {
  retry_policy p{retry_settings{}};
  CHECK(p.backoff(2, 0.0) == 3s);
  CHECK(p.backoff(2, 0.25) == 3500ms);
  CHECK(p.backoff(2, 0.999999) <= 5s);
  CHECK(p.backoff(2, 0.999999) > 4900ms);
  // At the cap the jitter only goes down, so concurrent requests still spread.
  CHECK(p.backoff(7, 0.0) == 45s);
  CHECK(p.backoff(7, 0.999999) == 60s);
  // Out-of-range random numbers are clamped, not trusted.
  CHECK(p.backoff(2, -3) == 3s);
  CHECK(p.backoff(2, std::nan("")) == 3s);
  CHECK(p.backoff(2, 7) <= 5s);

  std::mt19937 rng(42);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 10'000; ++i) {
    const int n = 1 + i % 8;
    const double nominal = std::min(60.0, 2.0 * std::ldexp(1.0, n - 1)) * 1000;
    const auto w = static_cast<double>(p.backoff(n, u(rng)).count());
    CHECK(w >= 0.75 * nominal - 1);
    CHECK(w <= std::min(60'000.0, 1.25 * nominal) + 1);
  }
}

TEST_CASE("decisions are deterministic") {
  retry_policy p{retry_settings{}};
  retry_counts a, b;
  for (int i = 0; i < 3; ++i) {
    auto x = p.decide(a, attempt_outcome::http(503), now, 0.3);
    auto y = p.decide(b, attempt_outcome::http(503), now, 0.3);
    CHECK(x.wait == y.wait);
    CHECK(x.reason == y.reason);
  }
}

TEST_CASE("5xx is retried max_retries times, then fails") {
  retry_policy p{retry_settings{}};
  retry_counts used;
  auto d = p.decide(used, attempt_outcome::http(503), now, mid);
  CHECK(d.action == retry_action::retry);
  CHECK(d.wait == 2s);
  CHECK(d.reason == "HTTP 503, retry 1/3 in 2.0s");
  CHECK_FALSE(d.pause_all_until);
  d = p.decide(used, attempt_outcome::http(500), now, 0.55);
  CHECK(d.wait == 4100ms);
  CHECK(d.reason == "HTTP 500, retry 2/3 in 4.1s");
  d = p.decide(used, attempt_outcome::http(502), now, mid);
  CHECK(d.wait == 8s);
  CHECK(used.retries == 3);
  d = p.decide(used, attempt_outcome::http(504), now, mid);
  CHECK(d.action == retry_action::fail);
  CHECK(d.reason == "HTTP 504: gave up after 3 retries");
  CHECK(used.retries == 3);
  CHECK(used.rate_limit_retries == 0);
}

TEST_CASE("max_retries = 0 fails the first error") {
  retry_settings s;
  s.max_retries = 0;
  auto d = once(attempt_outcome::http(500), s);
  CHECK(d.action == retry_action::fail);
  CHECK(d.reason == "HTTP 500: gave up after 0 retries");
}

TEST_CASE("every 5xx is retried, listed or not; listed 4xx too") {
  for (int status : {500, 501, 505, 520, 599}) {
    CAPTURE(status);
    CHECK(once(attempt_outcome::http(status)).action == retry_action::retry);
  }
  retry_settings s;
  s.retry_on_status_codes = {408, 425};
  CHECK(once(attempt_outcome::http(408), s).action == retry_action::retry);
  CHECK(once(attempt_outcome::http(425), s).action == retry_action::retry);
  CHECK(once(attempt_outcome::http(503), s).action == retry_action::retry);
  CHECK(once(attempt_outcome::http(408)).action == retry_action::fail);
}

TEST_CASE("other statuses fail at once and spend nothing") {
  retry_policy p{retry_settings{}};
  for (int status : {400, 401, 403, 404, 405, 409, 410, 418, 422, 301, 304, 100, 0, 600}) {
    CAPTURE(status);
    retry_counts used;
    auto d = p.decide(used, attempt_outcome::http(status), now, mid);
    CHECK(d.action == retry_action::fail);
    CHECK(d.wait == 0ms);
    CHECK_FALSE(d.pause_all_until);
    CHECK(used.retries == 0);
    CHECK(used.rate_limit_retries == 0);
  }
  CHECK(once(attempt_outcome::http(401)).reason == "HTTP 401: not retried");
  // Even with a Retry-After.
  CHECK(once(attempt_outcome::http(403, "5")).action == retry_action::fail);
}

TEST_CASE("transport errors are retried, TLS errors are not") {
  for (auto e : {transport_error::connect_failed, transport_error::timeout, transport_error::reset,
                 transport_error::truncated_body}) {
    CAPTURE(restsync::to_string(e));
    retry_policy p{retry_settings{}};
    retry_counts used;
    for (int i = 1; i <= 3; ++i) {
      auto d = p.decide(used, attempt_outcome::transport_failure(e), now, mid);
      CHECK(d.action == retry_action::retry);
      CHECK_FALSE(d.pause_all_until);
    }
    CHECK(p.decide(used, attempt_outcome::transport_failure(e), now, mid).action ==
          retry_action::fail);
  }
  CHECK(once(attempt_outcome::transport_failure(transport_error::reset)).reason ==
        "connection reset, retry 1/3 in 2.0s");
  auto d = once(attempt_outcome::transport_failure(transport_error::tls_error));
  CHECK(d.action == retry_action::fail);
  CHECK(d.reason.find("TLS error: not retried") == 0);
}

TEST_CASE("malformed JSON is retried in a 2xx; otherwise the status decides") {
  auto d = once(attempt_outcome::malformed_json(200));
  CHECK(d.action == retry_action::retry);
  CHECK(d.reason == "HTTP 200 with malformed JSON, retry 1/3 in 2.0s");
  CHECK(once(attempt_outcome::malformed_json(404)).action == retry_action::fail);
  CHECK(once(attempt_outcome::malformed_json(502)).action == retry_action::retry);

  retry_policy p{retry_settings{}};
  retry_counts used;
  used.retries = 3;
  CHECK(p.decide(used, attempt_outcome::malformed_json(), now, mid).action == retry_action::fail);
}

TEST_CASE("_errors in a 200: the code inside decides, no code fails") {
  auto d = once(attempt_outcome::errors_in_body(200, 401, "Invalid API token"));
  CHECK(d.action == retry_action::fail);
  CHECK(d.reason == "HTTP 200 with _errors code 401 \"Invalid API token\": not retried");

  d = once(attempt_outcome::errors_in_body(200, 503, "busy"));
  CHECK(d.action == retry_action::retry);
  CHECK(d.reason == "HTTP 200 with _errors code 503 \"busy\", retry 1/3 in 2.0s");

  d = once(attempt_outcome::errors_in_body(200, 429, "slow down"));
  CHECK(d.action == retry_action::retry);
  REQUIRE(d.pause_all_until);
  CHECK(*d.pause_all_until == now + 2s);

  d = once(attempt_outcome::errors_in_body(200, std::nullopt, "something broke"));
  CHECK(d.action == retry_action::fail);
  CHECK(d.reason ==
        "HTTP 200 with _errors \"something broke\": not retried (an application error)");

  for (int code : {200, 1001, 42, -1}) {
    CAPTURE(code);
    d = once(attempt_outcome::errors_in_body(200, code));
    CHECK(d.action == retry_action::fail);
  }
  CHECK(once(attempt_outcome::errors_in_body(200, 1001)).reason ==
        "HTTP 200 with _errors code 1001: not retried (an application error)");
}

TEST_CASE("_errors with an error status: the status decides, the message is kept") {
  auto d = once(attempt_outcome::errors_in_body(401, 401, "Invalid API token"));
  CHECK(d.action == retry_action::fail);
  CHECK(d.reason == "HTTP 401 \"Invalid API token\": not retried");
  // The status wins over a code that disagrees.
  CHECK(once(attempt_outcome::errors_in_body(503, 401, "x")).action == retry_action::retry);
  d = once(attempt_outcome::errors_in_body(429, std::nullopt, "rate", "12"));
  CHECK(d.action == retry_action::retry);
  CHECK(d.wait == 12s);
}

TEST_CASE("429 with Retry-After delta-seconds pauses everybody that long") {
  retry_policy p{retry_settings{}};
  retry_counts used;
  auto d = p.decide(used, attempt_outcome::http(429, "7"), now, mid);
  CHECK(d.action == retry_action::retry);
  CHECK(d.wait == 7s);
  REQUIRE(d.pause_all_until);
  CHECK(*d.pause_all_until == now + 7s);
  CHECK(d.reason == "HTTP 429, rate limited, retry 1 in 7.0s (Retry-After)");
  CHECK(used.rate_limit_retries == 1);
  CHECK(used.retries == 0);

  // Whitespace around the value is allowed; the jitter is not applied.
  d = p.decide(used, attempt_outcome::http(429, " 120 "), now, 0.0);
  CHECK(d.wait == 120s);
}

TEST_CASE("429 with Retry-After as each HTTP-date form") {
  const sys_time at = utc(2025, 3, 14, 12, 1, 30);  // 90 s after now
  for (const char* value : {"Fri, 14 Mar 2025 12:01:30 GMT", "Friday, 14-Mar-25 12:01:30 GMT",
                            "Fri Mar 14 12:01:30 2025"}) {
    CAPTURE(value);
    auto d = once(attempt_outcome::http(429, value));
    CHECK(d.action == retry_action::retry);
    CHECK(d.wait == 90s);
    REQUIRE(d.pause_all_until);
    CHECK(*d.pause_all_until == at);
  }
  // A date between whole seconds of `now`: rounded up, never early.
  retry_counts used;
  auto d = retry_policy{retry_settings{}}.decide(
      used, attempt_outcome::http(429, "Fri, 14 Mar 2025 12:00:10 GMT"), now + 250ms, mid);
  CHECK(d.wait == 9750ms);
}

TEST_CASE("429 whose Retry-After is zero, past, absent or garbage backs off, never spins") {
  const std::vector<std::optional<std::string>> values = {std::nullopt,
                                                          "0",
                                                          "00",
                                                          "Fri, 14 Mar 2025 11:00:00 GMT",
                                                          "Fri, 14 Mar 2025 12:00:00 GMT",
                                                          "-5",
                                                          "1.5",
                                                          "+3",
                                                          "",
                                                          "soon",
                                                          "Fri, 31 Feb 2025 12:00:00 GMT",
                                                          "12 s"};
  for (const auto& v : values) {
    CAPTURE(v.value_or("<absent>"));
    retry_policy p{retry_settings{}};
    retry_counts used;
    auto d = p.decide(used, attempt_outcome::http(429, v), now, mid);
    CHECK(d.action == retry_action::retry);
    CHECK(d.wait == 2s);  // the first backoff
    REQUIRE(d.pause_all_until);
    CHECK(*d.pause_all_until == now + 2s);
    CHECK(d.reason == "HTTP 429, rate limited, retry 1 in 2.0s");
    d = p.decide(used, attempt_outcome::http(429, v), now, mid);
    CHECK(d.wait == 4s);
  }
}

TEST_CASE("a 429 never waits less than min_rate_limit_wait") {
  retry_settings s;
  s.backoff_factor = 0;
  auto d = once(attempt_outcome::http(429), s);
  CHECK(d.wait == 1s);
  CHECK(*d.pause_all_until == now + 1s);
  // A date a fraction of a second ahead.
  retry_counts used;
  d = retry_policy{s}.decide(used, attempt_outcome::http(429, "Fri, 14 Mar 2025 12:00:01 GMT"),
                             now + 700ms, mid);
  CHECK(d.wait == 1s);
  s.min_rate_limit_wait = 5s;
  CHECK(once(attempt_outcome::http(429, "2"), s).wait == 5s);
  // Errors other than 429 may retry at once if the user asks for it.
  CHECK(once(attempt_outcome::http(503), s).wait == 0ms);
}

TEST_CASE("a Retry-After beyond max_retry_after fails clearly") {
  auto d = once(attempt_outcome::http(429, "3600"));
  CHECK(d.action == retry_action::fail);
  CHECK_FALSE(d.pause_all_until);
  CHECK(d.reason == "HTTP 429: Retry-After 3600.0s exceeds max_retry_after 900.0s; not waiting");
  CHECK(once(attempt_outcome::http(429, "900")).action == retry_action::retry);
  CHECK(once(attempt_outcome::http(429, "901")).action == retry_action::fail);
  CHECK(once(attempt_outcome::http(429, "99999999999999999999999999")).action ==
        retry_action::fail);
  CHECK(once(attempt_outcome::http(429, "Sat, 15 Mar 2025 12:00:00 GMT")).action ==
        retry_action::fail);
  CHECK(once(attempt_outcome::http(503, "86400")).action == retry_action::fail);
  // Dates far beyond the clock's nanosecond range saturate instead of overflowing.
  CHECK(once(attempt_outcome::http(429, "Fri, 31 Dec 9999 23:59:59 GMT")).action ==
        retry_action::fail);
  d = once(attempt_outcome::http(429, "Mon, 01 Jan 0001 00:00:00 GMT"));
  CHECK(d.action == retry_action::retry);
  CHECK(d.wait == 2s);
}

TEST_CASE("Retry-After on other retried statuses is the least wait, with no global pause") {
  auto d = once(attempt_outcome::http(503, "30"));
  CHECK(d.action == retry_action::retry);
  CHECK(d.wait == 30s);
  CHECK_FALSE(d.pause_all_until);
  CHECK(d.reason == "HTTP 503, retry 1/3 in 30.0s (Retry-After)");
  // Shorter than the backoff: the backoff wins.
  d = once(attempt_outcome::http(503, "1"));
  CHECK(d.wait == 2s);
  CHECK(d.reason == "HTTP 503, retry 1/3 in 2.0s");
}

TEST_CASE("the two budgets are independent") {
  retry_policy p{retry_settings{}};
  SUBCASE("429s exhausted, errors still retried") {
    retry_settings counted;
    counted.max_rate_limit_retries = 10;
    p = retry_policy{counted};
    retry_counts used;
    for (int i = 1; i <= 10; ++i) {
      auto d = p.decide(used, attempt_outcome::http(429), now, mid);
      CHECK(d.action == retry_action::retry);
      CHECK(d.wait == std::min<chr::milliseconds>(60s, chr::seconds{2 << (i - 1)}));
    }
    auto d = p.decide(used, attempt_outcome::http(429, "1"), now, mid);
    CHECK(d.action == retry_action::fail);
    CHECK(d.reason == "HTTP 429: gave up after 10 rate-limit retries");
    CHECK(used.retries == 0);
    CHECK(p.decide(used, attempt_outcome::http(500), now, mid).action == retry_action::retry);
  }
  SUBCASE("errors exhausted, 429s still retried") {
    retry_counts used;
    for (int i = 0; i < 3; ++i)
      p.decide(used, attempt_outcome::transport_failure(transport_error::timeout), now, mid);
    CHECK(p.decide(used, attempt_outcome::http(502), now, mid).action == retry_action::fail);
    auto d = p.decide(used, attempt_outcome::http(429), now, mid);
    CHECK(d.action == retry_action::retry);
    CHECK(d.reason == "HTTP 429, rate limited, retry 1 in 2.0s");
  }
  SUBCASE("interleaved") {
    retry_counts used;
    p.decide(used, attempt_outcome::http(429), now, mid);
    p.decide(used, attempt_outcome::http(503), now, mid);
    p.decide(used, attempt_outcome::http(429), now, mid);
    auto d = p.decide(used, attempt_outcome::http(503), now, mid);
    // The error backoff follows the error count, not the attempt count.
    CHECK(d.wait == 4s);
    CHECK(used.retries == 2);
    CHECK(used.rate_limit_retries == 2);
  }
  SUBCASE("max_rate_limit_retries = 0") {
    retry_settings s;
    s.max_rate_limit_retries = 0;
    CHECK(once(attempt_outcome::http(429), s).action == retry_action::fail);
  }
}

TEST_CASE("429s fail a request only after max_rate_limit_wait without progress") {
  retry_settings s;
  s.max_rate_limit_wait = 60s;
  retry_policy p{s};
  retry_counts used;
  // No count limit by default: a hundred 429s in a row are waited out while
  // the time they take stays within the budget.
  for (int i = 0; i < 100; ++i)
    CHECK(p.decide(used, attempt_outcome::http(429, "0"), now, mid).action == retry_action::retry);
  CHECK(used.rate_limit_retries == 100);
  // 50 s into the run of 429s a wait of 5 s still fits, one of 11 s does not.
  auto d = p.decide(used, attempt_outcome::http(429, "5"), now + 50s, mid);
  CHECK(d.action == retry_action::retry);
  d = p.decide(used, attempt_outcome::http(429, "11"), now + 50s, mid);
  CHECK(d.action == retry_action::fail);
  CHECK(d.reason ==
        "HTTP 429: rate limited for 50.0s without progress (max_rate_limit_wait 60.0s); gave "
        "up after 101 rate-limit retries");
  CHECK_FALSE(d.pause_all_until);
  // Any other answer is progress: the next 429 starts a new run of them.
  retry_counts fresh;
  p.decide(fresh, attempt_outcome::http(429, "1"), now, mid);
  p.decide(fresh, attempt_outcome::http(503), now + 59s, mid);
  CHECK(p.decide(fresh, attempt_outcome::http(429, "30"), now + 100s, mid).action ==
        retry_action::retry);
  CHECK(p.decide(fresh, attempt_outcome::http(429, "30"), now + 131s, mid).action ==
        retry_action::fail);
}

TEST_CASE("429 removed from retry_on_status_codes fails") {
  retry_settings s;
  s.retry_on_status_codes = {500, 502, 503, 504};
  auto d = once(attempt_outcome::http(429, "5"), s);
  CHECK(d.action == retry_action::fail);
  CHECK_FALSE(d.pause_all_until);
  CHECK(d.reason == "HTTP 429: not retried (429 is not in retry_on_status_codes)");
  CHECK(once(attempt_outcome::errors_in_body(200, 429), s).action == retry_action::fail);
}

TEST_CASE("HTTP-date parsing: the three forms") {
  const sys_time rfc_example = utc(1994, 11, 6, 8, 49, 37);
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", now) == rfc_example);
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now) == rfc_example);
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994", now) == rfc_example);
  CHECK(parse_http_date("Sun Nov 06 08:49:37 1994", now) == rfc_example);
  CHECK(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT\t", now) == rfc_example);
  CHECK(parse_http_date("sun, 06 nov 1994 08:49:37 GMT", now) == rfc_example);
  // The weekday is not checked against the date.
  CHECK(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT", now) == rfc_example);
  CHECK(parse_http_date("Thu, 29 Feb 2024 23:59:60 GMT", now) == utc(2024, 3, 1, 0, 0, 0));
  CHECK(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT", now) == sys_time{});
  for (const char* day :
       {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}) {
    CAPTURE(day);
    CHECK(parse_http_date(std::string(day) + ", 14-Mar-25 12:00:00 GMT", now) == now);
  }
  const char* month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned m = 1; m <= 12; ++m) {
    CHECK(parse_http_date(std::string("Wed, 01 ") + month_names[m - 1] + " 2025 00:00:00 GMT",
                          now) == utc(2025, m, 1, 0, 0, 0));
  }
}

TEST_CASE("HTTP-date parsing: RFC 850 two-digit years are within 50 years of now") {
  auto year_of = [](const char* yy, sys_time at) {
    auto t = parse_http_date(std::string("Sunday, 06-Nov-") + yy + " 08:49:37 GMT", at);
    REQUIRE(t);
    return static_cast<int>(chr::year_month_day{chr::floor<chr::days>(*t)}.year());
  };
  CHECK(year_of("25", now) == 2025);
  CHECK(year_of("75", now) == 2075);  // exactly 50 years ahead: still the future
  CHECK(year_of("76", now) == 1976);
  CHECK(year_of("94", now) == 1994);
  CHECK(year_of("00", now) == 2000);
  const sys_time late = utc(2099, 6, 1, 0, 0, 0);
  CHECK(year_of("00", late) == 2100);
  CHECK(year_of("98", late) == 2098);
  CHECK(year_of("49", late) == 2149);
  CHECK(year_of("50", late) == 2050);
}

TEST_CASE("HTTP-date parsing: what is not a date") {
  for (const char* text : {"",
                           "GMT",
                           "Sun, 06 Nov 1994 08:49:37",
                           "Sun, 06 Nov 1994 08:49:37 UTC",
                           "Sun, 6 Nov 1994 08:49:37 GMT",
                           "Sun, 06 Nov 94 08:49:37 GMT",
                           "Sun, 31 Nov 1994 08:49:37 GMT",
                           "Sun, 29 Feb 2023 08:49:37 GMT",
                           "Sun, 06 Nov 1994 24:00:00 GMT",
                           "Sun, 06 Nov 1994 08:60:00 GMT",
                           "Sun, 06 Nov 1994 08:49:61 GMT",
                           "Sun, 06 Nov 1994 08:49:37 GMT x",
                           "Sun, 06 Foo 1994 08:49:37 GMT",
                           "Xyz, 06 Nov 1994 08:49:37 GMT",
                           "Sun,06 Nov 1994 08:49:37 GMT",
                           "Sunday, 06-Nov-1994 08:49:37 GMT",
                           "Sun, 06-Nov-94 08:49:37 GMT",
                           "Sun Nov 6 08:49:37 1994",
                           "Sun Nov  6 08:49:37 94",
                           "Sun Nov  6 08:49:37 1994 GMT",
                           "Sun, 00 Nov 1994 08:49:37 GMT",
                           "Sun, 06 Nov 1994 8:49:37 GMT",
                           "1994-11-06T08:49:37Z",
                           "120"}) {
    CAPTURE(text);
    CHECK_FALSE(parse_http_date(text, now));
  }
}

TEST_CASE("Retry-After values") {
  const chr::milliseconds huge_wait = chr::seconds{100LL * 366 * 24 * 3600};
  CHECK(parse_retry_after("0", now) == 0ms);
  CHECK(parse_retry_after("5", now) == 5s);
  CHECK(parse_retry_after(" 5 ", now) == 5s);
  CHECK(parse_retry_after("0005", now) == 5s);
  CHECK(parse_retry_after("Fri, 14 Mar 2025 12:00:05 GMT", now) == 5s);
  CHECK(parse_retry_after("Fri, 14 Mar 2025 11:59:55 GMT", now) == -5s);
  CHECK(parse_retry_after("Fri, 14 Mar 2025 12:00:05 GMT", now + 1500ms) == 3500ms);
  CHECK(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) == huge_wait);
  CHECK(parse_retry_after("Mon, 01 Jan 0001 00:00:00 GMT", now) == -huge_wait);
  const auto huge = parse_retry_after("999999999999999999999999999999", now);
  REQUIRE(huge);
  CHECK(*huge == huge_wait);
  CHECK(*huge > chr::hours{24 * 365 * 99});
  CHECK(*huge < chr::hours{24 * 366 * 101});
  for (const char* garbage : {"", " ", "-1", "1.5", "+1", "5s", "0x10", "soon", "1 2"}) {
    CAPTURE(garbage);
    CHECK_FALSE(parse_retry_after(garbage, now));
  }
}

TEST_CASE("too_many_requests marks the server's 429, retried or not, wherever it came from") {
  CHECK(once(attempt_outcome::http(429, "1")).too_many_requests);
  CHECK(once(attempt_outcome::http(429, "3600")).too_many_requests);  // fails: max_retry_after
  CHECK(once(attempt_outcome::errors_in_body(200, 429, "slow down")).too_many_requests);
  CHECK(once(attempt_outcome::malformed_json(429)).too_many_requests);
  retry_settings unlisted;
  unlisted.retry_on_status_codes = {500};
  CHECK(once(attempt_outcome::http(429), unlisted).too_many_requests);
  // The status decides in a non-2xx answer, and nothing else is a 429.
  CHECK_FALSE(once(attempt_outcome::errors_in_body(503, 429, "busy")).too_many_requests);
  CHECK_FALSE(once(attempt_outcome::http(503)).too_many_requests);
  CHECK_FALSE(once(attempt_outcome::http(200)).too_many_requests);
  CHECK_FALSE(once(attempt_outcome::transport_failure(transport_error::reset)).too_many_requests);
}

// What came back, classified: a page, a failure no retry mends, or an attempt
// the retry policy judges; and the verdict that follows.
#include "restsync/flow/response_class.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace restsync;
using namespace std::chrono_literals;

namespace {

const page_spec spec("items", "total", "next");
const auto now = std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 50);

response_attempt attempt_of(response_class c) {
  REQUIRE(std::holds_alternative<response_attempt>(c));
  return std::get<response_attempt>(std::move(c));
}

}  // namespace

TEST_CASE("a 2xx whose body reads as a page is the page") {
  for (int status : {200, 203, 299}) {
    auto c = classify_response(status, R"({"items":[{"id":1},{"id":2}],"total":2,"next":"c"})",
                               std::nullopt, spec);
    REQUIRE(std::holds_alternative<page>(c));
    const auto& p = std::get<page>(c);
    CHECK(p.records().size() == 2);
    CHECK(p.total() == 2);
    CHECK(p.next() == "c");
  }
}

TEST_CASE("a 2xx with malformed JSON is an attempt to retry, with the parse error") {
  auto a = attempt_of(classify_response(200, "<html>proxy</html>", std::nullopt, spec));
  CHECK(a.outcome.what == attempt_outcome::kind::malformed_json);
  CHECK(a.outcome.status == 200);
  CHECK(a.server_message.find("malformed JSON at byte 0") == 0);
}

TEST_CASE("a 2xx with _errors is judged by the code inside") {
  auto a = attempt_of(classify_response(
      200, R"({"_errors":[{"code":"503","message":"busy"}],"items":[]})", std::nullopt, spec));
  CHECK(a.outcome.what == attempt_outcome::kind::errors_in_body);
  CHECK(a.outcome.error_code == 503);
  CHECK(a.server_message == "the API answered with _errors: [503] busy");

  auto text = attempt_of(classify_response(
      200, R"({"_errors":[{"code":"E_QUOTA","message":"no"}]})", std::nullopt, spec));
  CHECK_FALSE(text.outcome.error_code);

  auto number = attempt_of(
      classify_response(200, R"({"_errors":[{"code":401,"message":"who"}]})", std::nullopt, spec));
  CHECK(number.outcome.error_code == 401);
}

TEST_CASE("a 2xx of another shape than configured fails at once") {
  // The selector reaches a scalar, a record is not an object, the total is
  // not a count, the next hint is an object.
  for (const char* body : {R"({"items":5})", R"({"items":[1]})", R"({"items":[],"total":"many"})",
                           R"({"items":[],"next":{"a":1}})"}) {
    CAPTURE(body);
    auto c = classify_response(200, body, std::nullopt, spec);
    REQUIRE(std::holds_alternative<response_failure>(c));
    CHECK_FALSE(std::get<response_failure>(c).message.empty());
  }
}

TEST_CASE("other statuses are attempts with the Retry-After and the server's words") {
  auto a = attempt_of(classify_response(429, "slow down", std::string("7"), spec));
  CHECK(a.outcome.what == attempt_outcome::kind::response);
  CHECK(a.outcome.status == 429);
  CHECK(a.outcome.retry_after == "7");
  CHECK(a.server_message == "slow down");

  // A body that is a page is not read as one outside 2xx.
  auto b = attempt_of(classify_response(404, R"({"items":[{"id":1}]})", std::nullopt, spec));
  CHECK(b.outcome.status == 404);
  CHECK_FALSE(b.outcome.retry_after);
  CHECK(b.server_message == R"({"items":[{"id":1}]})");

  // `_errors` speak for the server; else its first 200 bytes.
  auto e = attempt_of(classify_response(500, R"({"_errors":[{"code":"X","message":"disk full"}]})",
                                        std::nullopt, spec));
  CHECK(e.server_message == "the API answered with _errors: [X] disk full");
  auto longer = attempt_of(classify_response(502, std::string(500, 'x'), std::nullopt, spec));
  CHECK(longer.server_message == std::string(200, 'x'));
  for (int status : {100, 301, 304, 199, 300}) {
    CAPTURE(status);
    CHECK(attempt_of(classify_response(status, "", std::nullopt, spec)).outcome.status == status);
  }
}

TEST_CASE("a transport error is an attempt with its message") {
  auto a = classify_transport(transport_error::timeout, "read timed out after 30s");
  CHECK(a.outcome.what == attempt_outcome::kind::transport);
  CHECK(a.outcome.transport == transport_error::timeout);
  CHECK(a.server_message == "read timed out after 30s");
}

TEST_CASE("judge: a retry counts as retry or as rate limiting; a failure says why") {
  retry_policy policy{retry_settings{}};
  retry_counts used;

  auto v = judge(attempt_of(classify_response(503, "later", std::nullopt, spec)), policy, used, now,
                 0.5);
  CHECK(v.retry);
  CHECK_FALSE(v.rate_limited);
  CHECK(v.message.empty());
  CHECK(used.retries == 1);

  v = judge(attempt_of(classify_response(429, "", std::string("3"), spec)), policy, used, now, 0.5);
  CHECK(v.retry);
  CHECK(v.rate_limited);
  REQUIRE(v.decision.pause_all_until);
  CHECK(v.decision.wait == 3s);
  CHECK(used.rate_limit_retries == 1);

  // A 429 named in the body of a 200 is rate limiting too for the policy,
  // but the response's own status is 200: counted as a retry.
  v = judge(attempt_of(classify_response(200, R"({"_errors":[{"code":429,"message":"slow"}]})",
                                         std::nullopt, spec)),
            policy, used, now, 0.5);
  CHECK(v.retry);
  CHECK_FALSE(v.rate_limited);

  v = judge(attempt_of(classify_response(401, "bad key", std::nullopt, spec)), policy, used, now,
            0.5);
  CHECK_FALSE(v.retry);
  CHECK(v.message == "HTTP 401: not retried: bad key");

  v = judge(attempt_of(classify_response(403, "", std::nullopt, spec)), policy, used, now, 0.5);
  CHECK_FALSE(v.retry);
  CHECK(v.message == "HTTP 403: not retried");

  v = judge(classify_transport(transport_error::tls_error, "certificate verify failed"), policy,
            used, now, 0.5);
  CHECK_FALSE(v.retry);
  CHECK(v.message.find("not retried (a certificate or TLS failure does not heal): certificate "
                       "verify failed") != std::string::npos);
}

TEST_CASE("judge: retries run out into a failure") {
  retry_settings s;
  s.max_retries = 1;
  retry_policy policy{s};
  retry_counts used;
  const auto a = classify_transport(transport_error::reset, "connection reset");
  CHECK(judge(a, policy, used, now, 0.5).retry);
  auto v = judge(a, policy, used, now, 0.5);
  CHECK_FALSE(v.retry);
  CHECK(v.message.find("gave up after 1 retries: connection reset") != std::string::npos);
}

TEST_CASE("response_actions: a matching response is ignored, before any retry") {
  const std::vector<response_action> actions{
      {404, std::nullopt}, {std::nullopt, "no data"}, {503, "maintenance"}};
  CHECK(matching_action(404, "whatever", actions) == 0u);
  CHECK(matching_action(200, R"({"message":"no data for this account"})", actions) == 1u);
  CHECK(matching_action(503, "down for maintenance", actions) == 2u);
  CHECK(matching_action(503, "overloaded", actions) == std::nullopt);
  CHECK(matching_action(200, R"({"items":[]})", actions) == std::nullopt);
  CHECK(matching_action(404, "no data", actions) == 0u);  // the first that matches
  CHECK(matching_action(404, "", {}) == std::nullopt);
  // A 429 is flow control: waited out, never ignored, whatever its body says.
  CHECK(matching_action(429, "no data", actions) == std::nullopt);

  auto c = classify_response(404, R"({"_errors":[{"code":404,"message":"gone"}]})", std::nullopt,
                             spec, actions);
  REQUIRE(std::holds_alternative<response_ignored>(c));
  CHECK(std::get<response_ignored>(c).status == 404);
  CHECK(std::get<response_ignored>(c).reason ==
        "response_actions[0] matches (status 404): action ignore");

  // A 2xx whose body would read as a page is still ignored when it matches.
  c = classify_response(200, R"({"items":[{"id":1}],"note":"no data"})", std::nullopt, spec,
                        actions);
  REQUIRE(std::holds_alternative<response_ignored>(c));
  CHECK(std::get<response_ignored>(c).reason ==
        "response_actions[1] matches (the body contains \"no data\"): action ignore");

  c = classify_response(503, "down for maintenance", std::nullopt, spec, actions);
  REQUIRE(std::holds_alternative<response_ignored>(c));
  CHECK(std::get<response_ignored>(c).reason ==
        "response_actions[2] matches (status 503 and the body contains \"maintenance\"): "
        "action ignore");

  // Not matched: classified as before.
  CHECK(attempt_of(classify_response(503, "overloaded", std::nullopt, spec, actions))
            .outcome.status == 503);
  CHECK(attempt_of(classify_response(429, "no data", "5", spec, actions)).outcome.status == 429);
  CHECK(std::holds_alternative<page>(
      classify_response(200, R"({"items":[]})", std::nullopt, spec, actions)));
}

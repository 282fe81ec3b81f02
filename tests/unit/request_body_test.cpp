// The JSON body of a POST: endpoint.json read from YAML, its placeholders
// filled, the paging position written into it, and the configurations that
// cannot work refused with file:line:column. No I/O.
#include "restsync/plan/request_body.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config_helpers.hpp"
#include "restsync/config/load.hpp"
#include "restsync/config/placeholder.hpp"
#include "restsync/paging/sequential.hpp"
#include "restsync/plan/describe.hpp"
#include "restsync/plan/request_query.hpp"

using namespace restsync;
using namespace config_test;

namespace {

// A resource `search` with the endpoint lines given (indented by 6).
std::string search_with(const std::string& endpoint_lines) {
  return yaml(R"(
client:
  base_url: https://api.test
resources:
  - name: search
    primary_key: id
    endpoint:
      path: /v1/search
)") + endpoint_lines;
}

placeholder_lookup none() {
  return [](std::string_view) { return std::optional<body_value>(); };
}

}  // namespace

TEST_CASE("templates: placeholders, escaped braces, and what is refused") {
  using pieces = std::vector<template_piece>;
  auto parts = [](std::string_view t) { return std::get<pieces>(parse_template(t)); };
  CHECK(parts("plain") == pieces{{"plain", false}});
  CHECK(parts("{incremental.start_value}") == pieces{{"incremental.start_value", true}});
  CHECK(parts("since {a} and {{b}}") ==
        pieces{{"since ", false}, {"a", true}, {" and {b}", false}});
  CHECK(std::get<std::string>(parse_template("{open")) ==
        "the `{` at character 1 has no `}`; write `{{` for a literal brace");
  CHECK(std::get<std::string>(parse_template("a } b")) ==
        "a `}` at character 3 closes nothing; write `}}` for a literal brace");
  CHECK(std::holds_alternative<std::string>(parse_template("{}")));
  CHECK(is_json_number("-12.5e3"));
  CHECK(is_json_number("0"));
  CHECK_FALSE(is_json_number("012"));
  CHECK_FALSE(is_json_number("1_000"));
  CHECK_FALSE(is_json_number(".5"));
  CHECK_FALSE(is_json_number(""));
}

TEST_CASE("json: YAML types become JSON types; quotes keep a string") {
  auto cfg = load(search_with(R"(      method: POST
      json:
        query: {status: open, tags: [a, "5", 5, true, "true", ~]}
        limit: 25
        ratio: 0.5
        note: "line\nbreak \"quoted\""
      paginator: single_page
)"));
  const auto& e = cfg.resources.at(0).endpoint;
  CHECK(e.method == http_method::post);
  REQUIRE(e.json);
  CHECK(*e.json == R"({"query":{"status":"open","tags":["a","5",5,true,"true",null]},"limit":25,)"
                   R"("ratio":0.5,"note":"line\u000abreak \"quoted\""})");
}

TEST_CASE("fill_body: a whole-value placeholder keeps its type; missing ones are left out") {
  const std::string tmpl =
      R"({"filters":{"from":"{incremental.start_value}","to":"{incremental.end_value}",)"
      R"("label":"since {incremental.start_value}","raw":"{{x}}"},"ids":["{incremental.end_value}",1]})";
  window_text w;
  w.start = "1700000000";
  CHECK(fill_body(tmpl, window_placeholders(w)) ==
        R"({"filters":{"from":1700000000,"label":"since 1700000000","raw":"{x}"},"ids":[1]})");
  w.start = "2024-01-01T00:00:00Z";
  w.end = "2024-02-01T00:00:00Z";
  CHECK(fill_body(tmpl, window_placeholders(w)) ==
        R"({"filters":{"from":"2024-01-01T00:00:00Z","to":"2024-02-01T00:00:00Z",)"
        R"("label":"since 2024-01-01T00:00:00Z","raw":"{x}"},"ids":["2024-02-01T00:00:00Z",1]})");
  // Big numbers and nothing to fill pass through unchanged.
  CHECK(fill_body(R"({"n":12345678901234567,"x":[]})", none()) ==
        R"({"n":12345678901234567,"x":[]})");
}

TEST_CASE("write_fields: makes the objects on the way and replaces what is there") {
  CHECK(write_fields("", {{{"page", "offset"}, {"100", true}}}) == R"({"page":{"offset":100}})");
  CHECK(write_fields(R"({"query":"x","page":{"offset":0,"limit":50}})",
                     {{{"page", "offset"}, {"150", true}}, {{"page", "limit"}, {"50", true}}}) ==
        R"({"query":"x","page":{"offset":150,"limit":50}})");
  CHECK(write_fields(R"({"a":1})", {{{"next"}, {"abc", false}}}) == R"({"a":1,"next":"abc"})");
  CHECK_THROWS_AS(write_fields(R"({"page":5})", {{{"page", "offset"}, {"1", true}}}),
                  std::invalid_argument);
}

TEST_CASE("offset body paging: each position has its own body, nothing in the query") {
  auto cfg = load(search_with(R"(      method: POST
      json: {query: {status: open}, page: {limit: 10}}
      paginator: {type: offset, limit: 25, offset_body_path: page.offset, limit_body_path: page.limit, offset_param: ~, limit_param: ~}
)"));
  const auto& e = cfg.resources.at(0).endpoint;
  const run_request run{e.method, "/v1/search", run_body(e, window_text{})};
  auto r0 = request_at(run, e.paginator, 0);
  auto r75 = request_at(run, e.paginator, 75);
  CHECK(r0.method == http_method::post);
  CHECK(r0.target == "/v1/search");
  CHECK(*r0.body == R"({"query":{"status":"open"},"page":{"limit":25,"offset":0}})");
  CHECK(*r75.body == R"({"query":{"status":"open"},"page":{"limit":25,"offset":75}})");
  // Only the offset in the body: the limit stays a query parameter.
  auto half = load(search_with(R"(      method: POST
      paginator: {type: offset, limit: 25, offset_body_path: from}
)"));
  const auto& h = half.resources.at(0).endpoint;
  auto r = request_at({h.method, "/v1/search", run_body(h, {})}, h.paginator, 50);
  CHECK(r.target == "/v1/search?limit=25");
  CHECK(*r.body == R"({"from":50})");
  // check-config shows what is sent.
  auto plan = describe_plan(cfg);
  CHECK(plan.find("POST https://api.test/v1/search\n") != std::string::npos);
  CHECK(plan.find(
            R"(body               {"query":{"status":"open"},"page":{"limit":25,"offset":0}})") !=
        std::string::npos);
}

TEST_CASE("page_number and cursor body paging through the sequential pager") {
  auto cfg = load(search_with(R"(      method: POST
      json: {query: all}
      paginator: {type: page_number, base_page: 1, page_body_path: page.number}
)"));
  const auto& e = cfg.resources.at(0).endpoint;
  sequential_settings s;
  s.paginator = e.paginator;
  s.base_target = "/v1/search";
  s.method = e.method;
  s.base_body = run_body(e, {});
  sequential_pager pager(s);
  CHECK(pager.first_request().target == "/v1/search");
  CHECK(*pager.first_request().body == R"({"query":"all","page":{"number":1}})");
  received_page p;
  p.records = 5;
  auto step = pager.on_page(p);
  REQUIRE(step.what == pager_step::kind::next);
  CHECK(*step.request.body == R"({"query":"all","page":{"number":2}})");

  auto cursor_cfg = load(search_with(R"(      method: POST
      json: {query: all}
      paginator: {type: cursor, cursor_path: next_cursor, cursor_body_path: cursor}
)"));
  s.paginator = cursor_cfg.resources.at(0).endpoint.paginator;
  s.base_body = run_body(cursor_cfg.resources.at(0).endpoint, {});
  sequential_pager cursors(s);
  CHECK(*cursors.first_request().body == R"({"query":"all"})");
  received_page c;
  c.records = 5;
  c.next = "o50";
  step = cursors.on_page(c);
  REQUIRE(step.what == pager_step::kind::next);
  CHECK(step.request.target == "/v1/search");
  CHECK(*step.request.body == R"({"query":"all","cursor":"o50"})");
  c.next = "77";
  c.next_is_number = true;
  step = cursors.on_page(c);
  CHECK(*step.request.body == R"({"query":"all","cursor":77})");
  // The same cursor again is the same request: a loop, refused.
  step = cursors.on_page(c);
  CHECK(step.what == pager_step::kind::failed);
}

TEST_CASE("body configurations that cannot work are refused where they are written") {
  CHECK(errors_of(search_with("      json: {query: x}\n      paginator: single_page\n")) ==
        std::vector<std::string>{
            "t.yaml:8:13: resources[0].endpoint.json: a body is sent only with `method: POST`; "
            "add `method: POST` to the endpoint (a GET with a body is dropped by many servers and "
            "proxies)"});
  CHECK(errors_of(search_with("      paginator: {type: page_number, page_body_path: page}\n")) ==
        std::vector<std::string>{
            "t.yaml:8:54: resources[0].endpoint.paginator.page_body_path: the position goes into "
            "the request body, which is sent only with `method: POST`; add `method: POST` to the "
            "endpoint, or send the position as a query parameter"});
  CHECK(
      errors_of(search_with("      method: POST\n      json: {page: 5}\n"
                            "      paginator: {type: offset, offset_body_path: page.offset}\n")) ==
      std::vector<std::string>{
          "t.yaml:10:51: resources[0].endpoint.paginator.offset_body_path: `page.offset`: "
          "`json` already holds a single value at `page`, not a map to write `offset` into"});
  CHECK(errors_of(search_with("      method: POST\n      json: [1, 2]\n"
                              "      paginator: {type: cursor, cursor_body_path: next}\n"))
            .front()
            .find("the body (`json`) is a list") != std::string::npos);
  CHECK(errors_of(search_with("      method: POST\n"
                              "      paginator: {type: offset, offset_body_path: p, "
                              "limit_body_path: p.limit}\n")) ==
        std::vector<std::string>{
            "t.yaml:9:71: resources[0].endpoint.paginator.limit_body_path: `p.limit` writes "
            "where `resources[0].endpoint.paginator.offset_body_path` already writes (`p`); give "
            "each its own field"});
  CHECK(errors_of(search_with("      method: POST\n"
                              "      paginator: {type: cursor, cursor_param: c, "
                              "cursor_body_path: c}\n")) ==
        std::vector<std::string>{
            "t.yaml:9:68: resources[0].endpoint.paginator.cursor_body_path: `cursor_body_path` "
            "and `cursor_param` both say where the position goes; give one of the two (over a "
            "paginator from resource_defaults, `cursor_param: ~` removes the default's)"});
  CHECK(errors_of(search_with("      method: POST\n      json: {since: \"{incremental.start}\"}\n"
                              "      paginator: single_page\n")) ==
        std::vector<std::string>{
            "t.yaml:9:21: resources[0].endpoint.json.since: `{incremental.start}` is not a "
            "placeholder restsync fills; a body may hold `{incremental.start_value}`, "
            "`{incremental.end_value}`, `{incremental.initial_value}`; write `{{` and `}}` for "
            "literal braces"});
  CHECK(errors_of(search_with("      method: POST\n      json: {q: \"a } b\"}\n"
                              "      paginator: single_page\n")) ==
        std::vector<std::string>{"t.yaml:9:17: resources[0].endpoint.json.q: `a } b`: a `}` at "
                                 "character 3 closes nothing; write `}}` for a literal brace"});
  CHECK(errors_of(search_with("      method: POST\n      json: just text\n"
                              "      paginator: single_page\n"))
            .front()
            .find("json: expected the request body as a map (or a list)") != std::string::npos);
}

TEST_CASE("a body member named like a credential is a secret, masked in check-config") {
  auto cfg = load(search_with(R"(      method: POST
      json: {query: all, auth: {api_token: tok-123456789}}
      paginator: single_page
)"));
  CHECK(cfg.secrets.contains_secret("tok-123456789"));
  auto plan = describe_plan(cfg);
  CHECK(plan.find("tok-123456789") == std::string::npos);
  CHECK(plan.find(R"({"query":"all","auth":{"api_token":"***"}})") != std::string::npos);
}

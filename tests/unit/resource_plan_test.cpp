// A resource's plan, resolved from its configuration once.
#include "restsync/plan/resource_plan.hpp"

#include <doctest/doctest.h>

using namespace restsync;
using namespace std::chrono_literals;

TEST_CASE("the plan of a resource: URL, page spec, retries, disposition, incremental") {
  client_config client;
  client.base_url = "https://api.example.com/v2/";
  resource_config rc;
  rc.name = "orders";
  rc.endpoint.path = "/orders";
  rc.endpoint.data_selector = {"_data", "items"};
  offset_paginator p;
  p.total_path = json_path{"meta", "total"};
  rc.endpoint.paginator = p;
  rc.endpoint.error_handler.max_retries = 7;
  rc.endpoint.error_handler.retry_on_status_codes = {503};
  rc.endpoint.error_handler.backoff_factor = 0.5;
  rc.endpoint.error_handler.max_backoff = 9s;
  rc.endpoint.error_handler.max_rate_limit_retries = 2;
  rc.endpoint.error_handler.max_retry_after = 30s;
  rc.endpoint.error_handler.min_rate_limit_wait = 3s;
  rc.write_disposition = disposition::append;

  auto plan = plan_resource(client, rc);
  CHECK(plan.resource == &rc);
  CHECK(plan.endpoint_url == "https://api.example.com/v2/orders");
  CHECK(plan.spec.data_selector() == "_data.items");
  CHECK(plan.retry.max_retries == 7);
  CHECK(plan.retry.retry_on_status_codes == std::vector<int>{503});
  CHECK(plan.retry.backoff_factor == 0.5);
  CHECK(plan.retry.max_backoff == 9s);
  CHECK(plan.retry.max_rate_limit_retries == 2);
  CHECK(plan.retry.max_retry_after == 30s);
  CHECK(plan.retry.min_rate_limit_wait == 3s);
  CHECK(plan.write == disposition::append);
  CHECK(plan.incremental == nullptr);

  rc.endpoint.incremental = incremental_config{};
  CHECK(plan_resource(client, rc).incremental == &*rc.endpoint.incremental);
}

TEST_CASE("the page spec finds each paginator's hint") {
  auto read = [](const paginator_config& p, const char* body) {
    endpoint_config e;
    e.paginator = p;
    auto r = page::read(body, spec_for(e));
    REQUIRE(std::holds_alternative<page>(r));
    return std::get<page>(std::move(r));
  };
  offset_paginator o;
  o.total_path = json_path{"total"};
  CHECK(read(offset_paginator{}, R"([{"id":1}])").records().size() == 1);  // `$`: the body
  CHECK(read(o, R"({"total":5})").total() == 5);
  page_number_paginator n;
  n.total_path = json_path{"pages"};
  CHECK(read(n, R"({"pages":3})").total() == 3);
  cursor_paginator c;
  CHECK(read(c, R"({"cursors":{"next":"abc"}})").next() == "abc");
  json_link_paginator j;
  CHECK(read(j, R"({"next":"/p2"})").next() == "/p2");
  // Paginators without a hint read none.
  CHECK_FALSE(read(single_page_paginator{}, R"({"next":"/p2","total":1})").next());
  CHECK_FALSE(read(header_link_paginator{}, R"({"next":"/p2","total":1})").total());
}

TEST_CASE("client-wide settings: the gate and the HTTP client") {
  rate_limit_config r;
  r.requests_per_second = 2.5;
  auto g = gate_settings(r);
  CHECK(g.requests_per_second == 2.5);
  const auto default_burst = g.burst;
  r.burst = 7;
  CHECK(gate_settings(r).burst == 7.0);
  CHECK(gate_settings(rate_limit_config{}).burst == default_burst);

  config cfg;
  cfg.client.timeout.connect = 1500ms;
  cfg.client.timeout.read = 20s;
  cfg.client.max_body_bytes = 1234;
  cfg.client.tls.verify = false;
  cfg.client.tls.ca_file = "/etc/ca.pem";
  cfg.client.max_in_flight = 1;
  cfg.resources.resize(2);
  auto h = http_settings_for(cfg);
  CHECK(h.connect_timeout == 1500ms);
  CHECK(h.read_timeout == 20s);
  CHECK(h.max_body_bytes == 1234);
  CHECK_FALSE(h.tls_verify);
  CHECK(h.ca_file == "/etc/ca.pem");
  CHECK(h.max_idle_connections == 4);  // a floor, for few requests in flight
  cfg.client.max_in_flight = 8;
  CHECK(http_settings_for(cfg).max_idle_connections == 16);  // max_in_flight per resource
}

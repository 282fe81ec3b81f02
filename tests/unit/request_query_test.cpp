#include "restsync/plan/request_query.hpp"

#include <doctest/doctest.h>

using namespace restsync;
using namespace std::chrono_literals;

TEST_CASE("a run's query: params, the window, then credentials; paging after") {
  endpoint_config e;
  e.params = {{"status", "open"}, {"since", "{incremental.start_value}"}};
  incremental_config inc;
  inc.initial_value = "2024-01-01T00:00:00Z";
  inc.end_value = "2024-02-01T00:00:00Z";
  inc.lag = 1h;
  inc.end_param = "until";
  e.incremental = inc;
  offset_paginator p;
  p.limit = 25;
  p.offset = 10;
  e.paginator = p;

  const auto w = first_run_window(e);
  REQUIRE(w.start);
  CHECK(*w.start != "2024-01-01T00:00:00Z");  // lag applied
  CHECK(w.initial == "2024-01-01T00:00:00Z");
  auto q = run_query(e, w, {{"api_key", "k"}});
  REQUIRE(q.size() == 4);
  CHECK(q[0] == std::pair<std::string, std::string>{"status", "open"});
  CHECK(q[1].first == "since");
  CHECK(q[1].second == *w.start);
  CHECK(q[2].first == "until");
  CHECK(q[3] == std::pair<std::string, std::string>{"api_key", "k"});

  CHECK(first_position(e.paginator) == 10);
  CHECK(paging_query(e.paginator, 35) == query_params{{"limit", "25"}, {"offset", "35"}});
}

TEST_CASE("a placeholder without a value leaves its param out; other paginators add nothing") {
  endpoint_config e;
  e.params = {{"to", "{incremental.end_value}"}, {"x", "1"}};
  incremental_config inc;
  e.incremental = inc;
  CHECK(run_query(e, first_run_window(e), {}) == query_params{{"x", "1"}});

  page_number_paginator n;
  n.page = 1;
  n.page_param = "p";
  CHECK(first_position(n) == 1);
  CHECK(paging_query(n, 3) == query_params{{"p", "3"}});
  CHECK(paging_query(cursor_paginator{}, 3).empty());
  CHECK(first_position(single_page_paginator{}) == 0);

  endpoint_config plain;
  CHECK(run_query(plain, first_run_window(plain), {{"k", "v"}}) == query_params{{"k", "v"}});
}

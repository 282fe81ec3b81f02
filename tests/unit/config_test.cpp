#include "restsync/config/config.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config_helpers.hpp"
#include "restsync/config/byte_size.hpp"
#include "restsync/config/conninfo.hpp"
#include "restsync/config/duration.hpp"
#include "restsync/config/load.hpp"
#include "restsync/config/substitute.hpp"
#include "restsync/config/suggest.hpp"
#include "restsync/config/tree.hpp"
#include "restsync/plan/column_hints.hpp"
#include "restsync/plan/describe.hpp"
#include "restsync/plan/resource_plan.hpp"

using namespace restsync;
using namespace config_test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// The source tree, as CMake knows it (__FILE__ may be relative, e.g. when
// a compiler cache rewrites paths).
fs::path source_dir() { return RESTSYNC_TEST_SOURCE_DIR; }

class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "config_test.XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path write(const std::string& name, const std::string& content) const {
    fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  fs::path path_;
};

// Sets an environment variable for the scope of a test.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~scoped_env() {
    if (old_) {
      setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

const char* const minimal = R"(
client:
  base_url: https://api.test
resources:
  - name: users
    primary_key: id
    endpoint:
      path: /v1/users
      paginator: single_page
)";

}  // namespace

TEST_CASE("config/analytics.yaml is the seed, translated key for key") {
  scoped_env key("ANALYTICS_API_KEY", "k-123456");
  scoped_env base("ANALYTICS_BASE_URL", nullptr);
  const config cfg = load_config(source_dir() / "config" / "analytics.yaml");

  CHECK(cfg.client.base_url == "https://api.example.com");
  CHECK(cfg.client.auth.type == auth_type::api_key);
  CHECK(cfg.client.auth.name == "api_key");
  CHECK(cfg.client.auth.api_key == "k-123456");
  CHECK(cfg.client.auth.location == api_key_location::header);
  CHECK(cfg.client.rate_limit.requests_per_second == 1.0);
  CHECK(cfg.destination.connection.empty());
  CHECK(cfg.destination.schema == "analytics");

  struct expected {
    const char* name;
    const char* path;
    const char* key;
    const char* cursor;  // incremental cursor_path, "" for none
    row_order order;
  };
  const auto none = row_order::unordered;
  const expected resources[] = {
      {"accounts", "/v1/accounts", "id", "createdOn", none},
      {"accounts_feeds", "/v1/accounts/current/feeds", "id", "when", row_order::desc},
      {"users", "/v1/accounts/current/users", "id", "createdOn", none},
      {"smartcode", "/v1/accounts/current/smartcode", "uid", "", none},
      {"campaigns", "/v1/accounts/current/campaigns", "id", "createdOn", none},
      {"custom_widgets", "/v1/accounts/current/changesets", "id", "updatedAt", none},
      {"thresholds", "/v1/accounts/current/thresholds", "uid", "", none},
      {"integrations", "/v1/accounts/current/integrations", "uid", "", none},
      {"labels", "/v1/accounts/current/labels", "id", "", none},
  };
  REQUIRE(cfg.resources.size() == 9);
  for (std::size_t i = 0; i < 9; ++i) {
    const resource_config& r = cfg.resources[i];
    CAPTURE(r.name);
    CHECK(r.name == resources[i].name);
    CHECK(r.endpoint.path == resources[i].path);
    CHECK(r.primary_key == std::vector<std::string>{resources[i].key});
    CHECK(r.write_disposition == disposition::merge);
    // The seed's `_data`, after the wrapped shape of the same list.
    CHECK(r.endpoint.data_selector == json_path{"_data", "partialCollection"});
    CHECK(r.endpoint.data_selectors ==
          std::vector<json_path>{{"_data", "partialCollection"}, {"_data"}});
    const auto* p = std::get_if<offset_paginator>(&r.endpoint.paginator);
    REQUIRE(p != nullptr);
    CHECK(p->limit == 50);
    CHECK(p->offset == 0);
    CHECK(p->offset_param == "offset");
    CHECK(p->limit_param == "limit");
    CHECK(p->total_path == json_path{"_data", "totalCount"});
    const error_handler_config& h = r.endpoint.error_handler;
    CHECK(h.retry_on_status_codes == std::vector<int>{429});
    CHECK(h.max_retries == 3);
    CHECK(h.backoff_factor == 2.0);
    CHECK(h.max_backoff == 60s);
    CHECK_FALSE(h.max_rate_limit_retries);
    CHECK(h.max_rate_limit_wait == 15min);
    if (*resources[i].cursor == 0) {
      CHECK_FALSE(r.endpoint.incremental);
      CHECK_FALSE(r.full_scan_every);
    } else {
      REQUIRE(r.endpoint.incremental);
      CHECK(r.endpoint.incremental->cursor_path == json_path{resources[i].cursor});
      CHECK(r.endpoint.incremental->order == resources[i].order);
      CHECK_FALSE(r.endpoint.incremental->initial_value);
      CHECK(r.endpoint.incremental->lag == 0s);
      // The feed's events never change; the others are re-read in full
      // now and then to catch changes to old records and deletions.
      CHECK(bool(r.full_scan_every) == (r.name != "accounts_feeds"));
    }
    CHECK(r.schedule.interval == 15min);
  }
  CHECK(resource_url(cfg.client, cfg.resources[5].endpoint) ==
        "https://api.example.com/v1/accounts/current/changesets");

  const std::string plan = describe_plan(cfg);
  CHECK(contains(plan, "GET https://api.example.com/v1/accounts?limit=50&offset=0\n"));
  CHECK(contains(plan, "api_key in header `api_key`: ***"));
  CHECK(contains(plan,
                 "data_selector      `_data.partialCollection`, else `_data` (the first "
                 "that reaches records;"));
  CHECK_FALSE(contains(plan, "k-123456"));
}

TEST_CASE("analytics.yaml takes its base_url from ANALYTICS_BASE_URL when set") {
  scoped_env key("ANALYTICS_API_KEY", "k");
  scoped_env base("ANALYTICS_BASE_URL", "http://127.0.0.1:8099");
  const config cfg = load_config(source_dir() / "config" / "analytics.yaml");
  CHECK(cfg.client.base_url == "http://127.0.0.1:8099");
  CHECK(resource_url(cfg.client, cfg.resources[0].endpoint) == "http://127.0.0.1:8099/v1/accounts");
}

TEST_CASE("analytics.yaml without the API key is refused, naming the variable") {
  scoped_env key("ANALYTICS_API_KEY", nullptr);
  try {
    load_config(source_dir() / "config" / "analytics.yaml");
    FAIL("accepted");
  } catch (const config_error& e) {
    REQUIRE(e.messages().size() == 1);
    CHECK(contains(e.messages()[0],
                   "analytics.yaml:14:14: client.auth.api_key: environment "
                   "variable `ANALYTICS_API_KEY` is not set"));
  }
}

TEST_CASE("config/example.yaml loads") {
  temp_dir dir;
  dir.write("api_token", "example-token\n");
  scoped_env creds("CREDENTIALS_DIRECTORY", dir.path().c_str());
  scoped_env pw("EXAMPLE_DB_PASSWORD", "example-db-pw");
  const config cfg = load_config(source_dir() / "config" / "example.yaml");
  CHECK_FALSE(cfg.resources.empty());
  CHECK(cfg.resources[0].schedule.jitter == 1min);
  CHECK(cfg.daemon.shutdown_timeout == 20s);
  REQUIRE(cfg.metrics.listen);
  CHECK(to_string(*cfg.metrics.listen) == "127.0.0.1:9187");
  const std::string plan = describe_plan(cfg);
  CHECK_FALSE(contains(plan, "example-token"));
  CHECK_FALSE(contains(plan, "example-db-pw"));
}

TEST_CASE("defaults are filled in") {
  const config cfg = load(yaml(minimal));
  CHECK(cfg.source == "t.yaml");
  const client_config& c = cfg.client;
  CHECK(c.auth.type == auth_type::none);
  CHECK(c.headers.empty());
  CHECK(c.rate_limit.requests_per_second == 1.0);
  CHECK_FALSE(c.rate_limit.burst);
  CHECK(c.max_in_flight == 4);
  CHECK(c.timeout.connect == 10s);
  CHECK(c.timeout.read == 30s);
  CHECK(c.max_body_bytes == 64 * 1024 * 1024);
  CHECK(c.memory_budget == 256 * 1024 * 1024);
  CHECK(c.tls.verify);
  CHECK(c.tls.ca_file.empty());
  CHECK(cfg.destination.connection.empty());
  CHECK(cfg.destination.schema == "analytics");

  REQUIRE(cfg.resources.size() == 1);
  const resource_config& r = cfg.resources[0];
  CHECK(r.write_disposition == disposition::merge);
  CHECK(r.schedule.interval == 15min);
  CHECK_FALSE(r.full_scan_every);
  CHECK_FALSE(r.hard_delete);
  CHECK_FALSE(r.max_age);
  CHECK(r.endpoint.params.empty());
  CHECK(r.endpoint.data_selector.empty());
  CHECK(std::holds_alternative<single_page_paginator>(r.endpoint.paginator));
  const error_handler_config& h = r.endpoint.error_handler;
  CHECK(h.retry_on_status_codes == std::vector<int>{429, 500, 502, 503, 504});
  CHECK(h.max_retries == 3);
  CHECK(h.backoff_factor == 2.0);
  CHECK(h.max_backoff == 60s);
  CHECK_FALSE(h.max_rate_limit_retries);
  CHECK(h.max_rate_limit_wait == 15min);
  CHECK(h.max_retry_after == 15min);
  CHECK(h.min_rate_limit_wait == 1s);
}

TEST_CASE("every client and resource option is read") {
  const config cfg = load(yaml(R"(
client:
  base_url: https://api.test/api/
  headers:
    Accept: application/json
    X-Trace: "on"
  rate_limit: {requests_per_second: 2.5, burst: 5}
  max_in_flight: 8
  timeout: {connect: 2s, read: 1m}
  max_body_bytes: 8MiB
  memory_budget: 100MB
  tls: {verify: false}
destination:
  connection: host=db dbname=sync
  schema: vendor
resources:
  - name: events
    primary_key: [account, id]
    write_disposition: append
    schedule: {interval: 1h30m}
    full_scan_every: 1d
    hard_delete: true
    max_age: 6h
    endpoint:
      path: v2/events
      method: GET
      params: {state: open, per_page: 100, archived: false}
      data_selector: $.data.items
      paginator: single_page
)"));
  const client_config& c = cfg.client;
  CHECK(c.headers == query_params{{"Accept", "application/json"}, {"X-Trace", "on"}});
  CHECK(c.rate_limit.requests_per_second == 2.5);
  CHECK(c.rate_limit.burst == 5);
  CHECK(c.max_in_flight == 8);
  CHECK(c.timeout.connect == 2s);
  CHECK(c.timeout.read == 60s);
  CHECK(c.max_body_bytes == 8 * 1024 * 1024);
  CHECK(c.memory_budget == 100'000'000);
  CHECK_FALSE(c.tls.verify);
  CHECK(cfg.destination.connection == "host=db dbname=sync");
  CHECK(cfg.destination.schema == "vendor");
  const resource_config& r = cfg.resources.at(0);
  CHECK(r.primary_key == std::vector<std::string>{"account", "id"});
  CHECK(r.write_disposition == disposition::append);
  CHECK(r.schedule.interval == 90min);
  CHECK(r.full_scan_every == 24h);
  CHECK(r.hard_delete);
  CHECK(r.max_age == 6h);
  CHECK(r.endpoint.params ==
        query_params{{"state", "open"}, {"per_page", "100"}, {"archived", "false"}});
  CHECK(r.endpoint.data_selector == json_path{"data", "items"});
  CHECK(resource_url(c, r.endpoint) == "https://api.test/api/v2/events");
}

TEST_CASE("a timeout given as one duration applies to connect and read") {
  std::string text = yaml(minimal) + "";
  text.insert(text.find("resources:"), "  timeout: 5s\n");
  const config cfg = load(text);
  CHECK(cfg.client.timeout.connect == 5s);
  CHECK(cfg.client.timeout.read == 5s);
}

TEST_CASE("a resource and an endpoint may be bare strings, as in dlt") {
  const config cfg = load(yaml(R"(
client: {base_url: "https://api.test"}
resource_defaults:
  write_disposition: replace
  endpoint: {paginator: single_page}
resources:
  - labels
  - name: users
    endpoint: /v1/users
)"));
  REQUIRE(cfg.resources.size() == 2);
  CHECK(cfg.resources[0].name == "labels");
  CHECK(cfg.resources[0].endpoint.path == "labels");
  CHECK(cfg.resources[1].endpoint.path == "/v1/users");
  CHECK(std::holds_alternative<single_page_paginator>(cfg.resources[1].endpoint.paginator));
}

TEST_CASE("resource_defaults are deep-merged into every resource") {
  const config cfg = load(yaml(R"(
client: {base_url: "https://api.test"}
resource_defaults:
  primary_key: id
  schedule: {interval: 5m}
  endpoint:
    data_selector: _data
    params: {lang: en, per_page: 10}
    paginator: {type: offset, limit: 100, offset_param: skip}
    error_handler: {max_retries: 5, retry_on_status_codes: [429, 503]}
    incremental: {cursor_path: updatedAt}
resources:
  - name: a
    endpoint:
      path: /a
  - name: b
    primary_key: [uid, rev]
    endpoint:
      path: /b
      params: {per_page: 20, q: x}
      paginator: {limit: 25}
      error_handler: {retry_on_status_codes: [503]}
  - name: c
    endpoint:
      path: /c
      paginator: {type: cursor}
      incremental: ~
  - name: d
    endpoint:
      path: /d
      paginator: header_link
)"));
  REQUIRE(cfg.resources.size() == 4);
  const auto& a = cfg.resources[0];
  const auto& b = cfg.resources[1];
  CHECK(a.primary_key == std::vector<std::string>{"id"});
  CHECK(a.schedule.interval == 5min);
  CHECK(a.endpoint.data_selector == json_path{"_data"});
  CHECK(a.endpoint.params == query_params{{"lang", "en"}, {"per_page", "10"}});
  const auto& pa = std::get<offset_paginator>(a.endpoint.paginator);
  CHECK(pa.limit == 100);
  CHECK(pa.offset_param == "skip");
  CHECK(a.endpoint.error_handler.max_retries == 5);
  CHECK(a.endpoint.error_handler.retry_on_status_codes == std::vector<int>{429, 503});

  // Maps merge key by key; scalars and lists of the resource win.
  CHECK(b.primary_key == std::vector<std::string>{"uid", "rev"});
  CHECK(b.schedule.interval == 5min);
  CHECK(b.endpoint.params == query_params{{"per_page", "20"}, {"q", "x"}, {"lang", "en"}});
  const auto& pb = std::get<offset_paginator>(b.endpoint.paginator);
  CHECK(pb.limit == 25);
  CHECK(pb.offset_param == "skip");
  CHECK(b.endpoint.error_handler.max_retries == 5);
  CHECK(b.endpoint.error_handler.retry_on_status_codes == std::vector<int>{503});

  // A paginator of another type replaces the default whole, so the offset
  // default's `limit` does not leak into a cursor paginator.
  const auto& pc = std::get<cursor_paginator>(cfg.resources[2].endpoint.paginator);
  CHECK(pc.cursor_path == json_path{"cursors", "next"});
  CHECK(std::holds_alternative<header_link_paginator>(cfg.resources[3].endpoint.paginator));

  // An explicit null removes a default.
  CHECK(a.endpoint.incremental->cursor_path == json_path{"updatedAt"});
  CHECK_FALSE(cfg.resources[2].endpoint.incremental);
}

TEST_CASE("a mistake in resource_defaults is reported once, where it is written") {
  const auto errors = errors_of(yaml(R"(
client: {base_url: "https://api.test"}
resource_defaults:
  primary_key: id
  endpoint:
    paginator: {type: offset, limti: 10}
resources:
  - {name: a, endpoint: /a}
  - {name: b, endpoint: /b}
  - {name: c, endpoint: /c}
)"));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] ==
        "t.yaml:5:31: unknown key `limti` in `resource_defaults.endpoint.paginator` (paginator "
        "type offset); did you mean `limit`?");
}

TEST_CASE("resource_defaults cannot name resources") {
  CHECK(first_error(yaml(R"(
client: {base_url: "https://api.test"}
resource_defaults:
  name: x
resources: [{name: a, primary_key: id, endpoint: {path: /a, paginator: single_page}}]
)")) == "t.yaml:3:3: `resource_defaults` cannot set `name`: every resource names itself");
}

TEST_CASE("auth: api_key in a header or the query, bearer, http_basic") {
  auto with_auth = [](const std::string& auth) {
    std::string text = yaml(minimal);
    text.insert(text.find("resources:"), auth);
    return load(text);
  };
  SUBCASE("api_key defaults to the Authorization header, as in dlt") {
    auto c = with_auth("  auth: {type: api_key, api_key: abc}\n");
    CHECK(c.client.auth.type == auth_type::api_key);
    CHECK(c.client.auth.name == "Authorization");
    CHECK(c.client.auth.location == api_key_location::header);
    CHECK(c.client.auth.api_key == "abc");
  }
  SUBCASE("api_key in the query") {
    auto c = with_auth("  auth: {type: api_key, name: key, api_key: abc, location: query}\n");
    CHECK(c.client.auth.location == api_key_location::query);
    CHECK(c.client.auth.name == "key");
    const std::string plan = describe_plan(c);
    CHECK(contains(plan, "GET https://api.test/v1/users?key=***"));
    CHECK_FALSE(contains(plan, "abc"));
  }
  SUBCASE("bearer") {
    auto c = with_auth("  auth: {type: bearer, token: tok-1}\n");
    CHECK(c.client.auth.type == auth_type::bearer);
    CHECK(c.client.auth.token == "tok-1");
  }
  SUBCASE("a type left out means bearer, as in dlt") {
    auto c = with_auth("  auth: {token: tok-2}\n");
    CHECK(c.client.auth.type == auth_type::bearer);
    CHECK(c.client.auth.token == "tok-2");
  }
  SUBCASE("http_basic") {
    auto c = with_auth("  auth: {type: http_basic, username: me, password: pw-1}\n");
    CHECK(c.client.auth.type == auth_type::http_basic);
    CHECK(c.client.auth.username == "me");
    CHECK(c.client.auth.password == "pw-1");
    const std::string plan = describe_plan(c);
    CHECK(contains(plan, "http_basic user `me`, password ***"));
    CHECK_FALSE(contains(plan, "pw-1"));
  }
}

TEST_CASE("auth mistakes") {
  auto error_with_auth = [](const std::string& auth) {
    std::string text = yaml(minimal);
    text.insert(text.find("resources:"), auth);
    return first_error(text);
  };
  CHECK(error_with_auth("  auth: {type: api_key, name: api_key}\n") ==
        "t.yaml:3:9: client.auth: missing required key `api_key` (the key, e.g. "
        "`${env:API_KEY}`)");
  CHECK(error_with_auth("  auth: {type: apikey, api_key: x}\n") ==
        "t.yaml:3:16: client.auth.type: `apikey` is not one of bearer, http_basic, api_key, "
        "oauth2_client_credentials; did you mean `api_key`?");
  CHECK(error_with_auth("  auth: {type: bearer, token: x, api_key: y}\n") ==
        "t.yaml:3:34: unknown key `api_key` in `client.auth` (auth type bearer); the keys "
        "allowed here are type, token");
  CHECK(error_with_auth("  auth: {type: api_key, api_key: x, location: body}\n") ==
        "t.yaml:3:47: client.auth.location: `body` is not one of header, query");
  CHECK(error_with_auth("  auth: {type: api_key, api_key: \"\"}\n") ==
        "t.yaml:3:34: client.auth.api_key: is empty; expected the API key");
  CHECK(error_with_auth("  auth: {type: api_key, name: \"api key\", api_key: x}\n") ==
        "t.yaml:3:31: client.auth.name: `api key` is not a valid HTTP header name (letters, "
        "digits and !#$%&'*+-.^_`|~, no spaces or colons)");
}

TEST_CASE("paginators: every type, with its defaults and as a bare string") {
  auto paginator = [](const std::string& p) {
    std::string text = yaml(minimal);
    const std::string from = "paginator: single_page";
    text.replace(text.find(from), from.size(), "paginator: " + p);
    return load(text).resources.at(0).endpoint.paginator;
  };
  SUBCASE("offset") {
    auto p = std::get<offset_paginator>(paginator("offset"));
    CHECK(p.limit == 50);
    CHECK(p.offset == 0);
    CHECK(p.offset_param == "offset");
    CHECK(p.limit_param == "limit");
    CHECK_FALSE(p.total_path);
    CHECK_FALSE(p.maximum_offset);
    CHECK(p.stop_on_short_page);
    p = std::get<offset_paginator>(
        paginator("{type: offset, limit: 25, offset: 10, offset_param: skip, limit_param: take, "
                  "total_path: _data.totalCount, maximum_offset: 1000, "
                  "stop_on_short_page: false}"));
    CHECK_FALSE(p.stop_on_short_page);
    CHECK(p.limit == 25);
    CHECK(p.offset == 10);
    CHECK(p.offset_param == "skip");
    CHECK(p.limit_param == "take");
    CHECK(p.total_path == json_path{"_data", "totalCount"});
    CHECK(p.maximum_offset == 1000);
  }
  SUBCASE("page_number") {
    auto p = std::get<page_number_paginator>(paginator("page_number"));
    CHECK(p.base_page == 0);
    CHECK(p.page == 0);
    CHECK(p.page_param == "page");
    CHECK_FALSE(p.total_path);
    CHECK_FALSE(p.maximum_page);
    p = std::get<page_number_paginator>(paginator(
        "{type: page_number, base_page: 1, page_param: p, total_path: pages, maximum_page: 20}"));
    CHECK(p.base_page == 1);
    CHECK(p.page == 1);
    CHECK(p.page_param == "p");
    CHECK(p.total_path == json_path{"pages"});
    CHECK(p.maximum_page == 20);
    p = std::get<page_number_paginator>(paginator("{type: page_number, base_page: 1, page: 3}"));
    CHECK(p.page == 3);
  }
  SUBCASE("cursor") {
    auto p = std::get<cursor_paginator>(paginator("cursor"));
    CHECK(p.cursor_path == json_path{"cursors", "next"});
    CHECK(p.cursor_param == "cursor");
    p = std::get<cursor_paginator>(
        paginator("{type: cursor, cursor_path: meta.next_cursor, cursor_param: after}"));
    CHECK(p.cursor_path == json_path{"meta", "next_cursor"});
    CHECK(p.cursor_param == "after");
  }
  SUBCASE("json_link") {
    auto p = std::get<json_link_paginator>(paginator("json_link"));
    CHECK(p.next_url_path == json_path{"next"});
    p = std::get<json_link_paginator>(paginator("{type: json_link, next_url_path: links.next}"));
    CHECK(p.next_url_path == json_path{"links", "next"});
  }
  SUBCASE("header_link") {
    auto p = std::get<header_link_paginator>(paginator("header_link"));
    CHECK(p.links_next_key == "next");
    p = std::get<header_link_paginator>(paginator("{type: header_link, links_next_key: nxt}"));
    CHECK(p.links_next_key == "nxt");
  }
  SUBCASE("single_page") {
    CHECK(std::holds_alternative<single_page_paginator>(paginator("{type: single_page}")));
  }
}

TEST_CASE("paginator mistakes") {
  auto error = [](const std::string& p) {
    std::string text = yaml(minimal);
    const std::string from = "paginator: single_page";
    text.replace(text.find(from), from.size(), "paginator: " + p);
    return first_error(text);
  };
  CHECK(error("{type: offset, limit: 0}") ==
        "t.yaml:8:40: resources[0].endpoint.paginator.limit: expected a whole number of at "
        "least 1, found `0`");
  CHECK(error("{type: offset, limit: -5}") ==
        "t.yaml:8:40: resources[0].endpoint.paginator.limit: expected a whole number of at "
        "least 1, found `-5`");
  CHECK(error("{type: offset, limit: fifty}") ==
        "t.yaml:8:40: resources[0].endpoint.paginator.limit: expected a whole number of at "
        "least 1, found `fifty`");
  CHECK(error("{type: offset, offest_param: o}") ==
        "t.yaml:8:33: unknown key `offest_param` in `resources[0].endpoint.paginator` "
        "(paginator type offset); did you mean `offset_param`?");
  CHECK(error("{type: cursor, limit: 5}") ==
        "t.yaml:8:33: unknown key `limit` in `resources[0].endpoint.paginator` (paginator type "
        "cursor); the keys allowed here are type, cursor_path, cursor_param, cursor_body_path");
  CHECK(error("pages") ==
        "t.yaml:8:18: resources[0].endpoint.paginator.type: `pages` is not one of single_page, "
        "offset, page_number, cursor, json_link, header_link");
  CHECK(error("{type: ofset}") ==
        "t.yaml:8:25: resources[0].endpoint.paginator.type: `ofset` is not one of single_page, "
        "offset, page_number, cursor, json_link, header_link; did you mean `offset`?");
  CHECK(error("{limit: 5}") ==
        "t.yaml:8:18: resources[0].endpoint.paginator: missing required key `type` (one of "
        "single_page, offset, page_number, cursor, json_link, header_link)");
  CHECK(error("{type: page_number, base_page: 1, page: 0}") ==
        "t.yaml:8:58: resources[0].endpoint.paginator.page: expected a whole number of at "
        "least 1, found `0`");
  CHECK(error("{type: cursor, cursor_path: $}") ==
        "t.yaml:8:46: resources[0].endpoint.paginator.cursor_path: must name a field of the "
        "body, not the whole body `$`");
}

TEST_CASE("a missing paginator is refused: restsync does not guess how an API pages") {
  std::string text = yaml(minimal);
  text.erase(text.find("      paginator"));
  CHECK(contains(first_error(text),
                 "t.yaml:7:7: resources[0].endpoint: missing required key `paginator` (how the "
                 "API pages; restsync does not guess: `single_page`"));
}

TEST_CASE("data_selector: a dotted path or $") {
  auto selector = [](const std::string& s) {
    std::string text = yaml(minimal);
    text += "      data_selector: " + s + "\n";
    return load(text).resources.at(0).endpoint.data_selector;
  };
  CHECK(selector("_data") == json_path{"_data"});
  CHECK(selector("_data.partialCollection") == json_path{"_data", "partialCollection"});
  CHECK(selector("$._data") == json_path{"_data"});
  CHECK(selector("$").empty());
  CHECK(selector("\"$\"").empty());
  CHECK(to_string(json_path{"_data", "x"}) == "_data.x");
  CHECK(to_string(json_path{}) == "$");

  std::string text = yaml(minimal) + "      data_selector: _data[0].x\n";
  CHECK(first_error(text) ==
        "t.yaml:9:22: resources[0].endpoint.data_selector: `_data[0].x` is not a dotted path; "
        "write keys separated by dots, such as `_data.partialCollection`, or `$` for the whole "
        "body");
  text = yaml(minimal) + "      data_selector: a..b\n";
  CHECK(contains(first_error(text), "`a..b` is not a dotted path"));
}

TEST_CASE("data_selector: a list of alternatives, tried in order") {
  auto endpoint = [](const std::string& s) {
    return load(yaml(minimal) + "      data_selector: " + s + "\n").resources.at(0).endpoint;
  };
  const auto two = endpoint("[_data.partialCollection, $._data]");
  CHECK(two.data_selector == json_path{"_data", "partialCollection"});
  CHECK(two.data_selectors == std::vector<json_path>{{"_data", "partialCollection"}, {"_data"}});
  CHECK(spec_for(two).data_selector() == "[_data.partialCollection, _data]");
  // A list of one is the string.
  const auto one = endpoint("[_data]");
  CHECK(one.data_selector == json_path{"_data"});
  CHECK(one.data_selectors.empty());
  CHECK(spec_for(one).data_selector() == "_data");
  // The string keeps its meaning.
  CHECK(endpoint("_data").data_selectors.empty());
  // check-config shows the order and the rules.
  CHECK(contains(describe_plan(load(yaml(minimal) +
                                    "      data_selector: [_data.partialCollection, _data]\n")),
                 "data_selector      `_data.partialCollection`, else `_data` (the first that "
                 "reaches records; a body none of them finds is empty; no total is read inside "
                 "the records chosen)\n"));
  CHECK(contains(describe_plan(load(yaml(minimal) + "      data_selector: _data\n")),
                 "data_selector      _data\n"));

  CHECK(first_error(yaml(minimal) + "      data_selector: []\n") ==
        "t.yaml:9:22: resources[0].endpoint.data_selector: an empty list selects nothing; write "
        "one selector such as `_data`, or a list of alternatives such as "
        "`[_data.partialCollection, _data]`");
  CHECK(first_error(yaml(minimal) + "      data_selector: [_data, a..b]\n") ==
        "t.yaml:9:30: resources[0].endpoint.data_selector[1]: `a..b` is not a dotted path; "
        "write keys separated by dots, such as `_data.partialCollection`, or `$` for the whole "
        "body");
  CHECK(contains(first_error(yaml(minimal) + "      data_selector: [_data, $._data]\n"),
                 "t.yaml:9:30: resources[0].endpoint.data_selector[1]: `$._data` is already in "
                 "this list"));
  CHECK(contains(first_error(yaml(minimal) + "      data_selector: {a: 1}\n"),
                 "resources[0].endpoint.data_selector: "));
}

TEST_CASE("params: strings, numbers and booleans; maps and lists are refused") {
  std::string text = yaml(minimal) + "      params: {q: \"a b\", n: 5, f: 1.5, b: true}\n";
  CHECK(load(text).resources.at(0).endpoint.params ==
        query_params{{"q", "a b"}, {"n", "5"}, {"f", "1.5"}, {"b", "true"}});
  text = yaml(minimal) + "      params: {q: [1, 2]}\n";
  CHECK(first_error(text) ==
        "t.yaml:9:19: resources[0].endpoint.params.q: expected a string, number or boolean, "
        "found a list");
  text = yaml(minimal) + "      params: {q: {a: 1}}\n";
  CHECK(contains(first_error(text),
                 "t.yaml:9:19: resources[0].endpoint.params.q: expected a string, number or "
                 "boolean; for incremental loading use `endpoint.incremental`"));
}

TEST_CASE("incremental: every key, and dlt's form inside params") {
  std::string text = yaml(minimal) + R"(      incremental:
        cursor_path: updatedAt
        initial_value: 1700000000
        end_value: "1800000000"
        lag: 10m
        row_order: asc
        on_cursor_value_missing: exclude
        start_param: since
        end_param: until
    full_scan_every: 7d
)";
  const config cfg = load(text);
  const auto& inc = cfg.resources.at(0).endpoint.incremental;
  REQUIRE(inc);
  CHECK(inc->cursor_path == json_path{"updatedAt"});
  CHECK(inc->initial_value == "1700000000");
  CHECK(inc->end_value == "1800000000");
  CHECK(inc->lag == 10min);
  CHECK(inc->order == row_order::asc);
  CHECK(inc->on_cursor_value_missing == missing_cursor_action::exclude);
  CHECK(inc->start_param == "since");
  CHECK(inc->end_param == "until");
  CHECK(cfg.resources[0].full_scan_every == 7 * 24h);
  // The request the engine sends first: initial_value moved back by lag.
  CHECK(contains(describe_plan(cfg), "?since=1699999400&until=1800000000\n"));

  text = yaml(minimal) +
         "      params:\n"
         "        per_page: 10\n"
         "        since: {type: incremental, cursor_path: meta.updated, initial_value: \"0\"}\n";
  const config dlt = load(text);
  const auto& endpoint = dlt.resources.at(0).endpoint;
  CHECK(endpoint.params == query_params{{"per_page", "10"}});
  REQUIRE(endpoint.incremental);
  CHECK(endpoint.incremental->start_param == "since");
  CHECK(endpoint.incremental->cursor_path == json_path{"meta", "updated"});
  CHECK(endpoint.incremental->initial_value == "0");
  CHECK(endpoint.incremental->order == row_order::unordered);
  CHECK(endpoint.incremental->on_cursor_value_missing == missing_cursor_action::raise);
}

TEST_CASE("incremental mistakes") {
  std::string text = yaml(minimal) + "      incremental: {cursor_path: t, row_order: ascending}\n";
  CHECK(first_error(text) ==
        "t.yaml:9:48: resources[0].endpoint.incremental.row_order: `ascending` is not one of "
        "asc, desc");
  text = yaml(minimal) + "      incremental: {initial_value: 0}\n";
  CHECK(first_error(text) ==
        "t.yaml:9:20: resources[0].endpoint.incremental: missing required key `cursor_path` "
        "(the record field that orders updates, such as `updatedAt`)");
  text = yaml(minimal) + "      incremental: {cursor_path: t, on_cursor_value_missing: skip}\n";
  CHECK(contains(first_error(text), "`skip` is not one of raise, include, exclude"));
  text = yaml(minimal) +
         "      incremental: {cursor_path: t}\n"
         "      params: {since: {type: incremental, cursor_path: t}}\n";
  CHECK(contains(first_error(text),
                 "t.yaml:10:23: resources[0].endpoint.params.since: "
                 "incremental loading is already configured"));
}

TEST_CASE("incremental: initial_value and end_value are timestamps, end after initial") {
  std::string text = yaml(minimal) + R"(      incremental:
        cursor_path: t
        initial_value: 1700000000000
        end_value: "2024-01-01"
)";
  const config cfg = load(text);
  const auto& inc = cfg.resources.at(0).endpoint.incremental;
  REQUIRE(inc);
  CHECK(inc->initial_value == "1700000000000");
  CHECK(inc->end_value == "2024-01-01");

  const std::string expected =
      "expected a timestamp: epoch seconds, epoch milliseconds or an ISO-8601 date-time such as "
      "2024-01-01T00:00:00Z";
  text = yaml(minimal) + R"(      incremental:
        cursor_path: t
        initial_value: 2023-02-29T00:00:00Z
        end_value: soon
)";
  CHECK(errors_of(text) ==
        std::vector<std::string>{"t.yaml:11:24: resources[0].endpoint.incremental.initial_value: " +
                                     expected + ", found `2023-02-29T00:00:00Z`",
                                 "t.yaml:12:20: resources[0].endpoint.incremental.end_value: " +
                                     expected + ", found `soon`"});
  text = yaml(minimal) + "      incremental: {cursor_path: t, initial_value: \"\"}\n";
  CHECK(first_error(text) ==
        "t.yaml:9:52: resources[0].endpoint.incremental.initial_value: " + expected + ", found ``");
  text = yaml(minimal) +
         "      params: {since: {type: incremental, cursor_path: t, initial_value: 2024-13-01}}\n";
  CHECK(first_error(text) == "t.yaml:9:74: resources[0].endpoint.params.since.initial_value: " +
                                 expected + ", found `2024-13-01`");

  // Compared as points in time, whatever the forms.
  text = yaml(minimal) + R"(      incremental:
        cursor_path: t
        initial_value: 2024-01-01T01:00:00+01:00
        end_value: 1704067200
)";
  CHECK(first_error(text) ==
        "t.yaml:12:20: resources[0].endpoint.incremental.end_value: `1704067200` is not later "
        "than initial_value `2024-01-01T01:00:00+01:00`; a back-fill runs from initial_value up "
        "to end_value");
  text = yaml(minimal) + R"(      incremental:
        cursor_path: t
        initial_value: 1704067200000
        end_value: 2023-12-31T23:59:59.999Z
)";
  CHECK(contains(first_error(text),
                 "t.yaml:12:20: resources[0].endpoint.incremental.end_value: "
                 "`2023-12-31T23:59:59.999Z` is not later than initial_value `1704067200000`"));
  text = yaml(minimal) + R"(      incremental:
        cursor_path: t
        initial_value: 1704067200000
        end_value: 2024-01-01T00:00:00.001Z
)";
  CHECK(load(text).resources.at(0).endpoint.incremental->end_value == "2024-01-01T00:00:00.001Z");
}

TEST_CASE("unknown keys are refused, with a did-you-mean when one is close") {
  CHECK(first_error(yaml(R"(
client:
  base_ur: https://api.test
resources: []
)")) == "t.yaml:2:3: unknown key `base_ur` in `client`; did you mean `base_url`?");

  CHECK(first_error(yaml(R"(
clinet:
  base_url: https://api.test
)")) == "t.yaml:1:1: unknown top-level key `clinet`; did you mean `client`?");

  std::string text = yaml(minimal);
  text.insert(text.find("resources:"), "  colour: blue\n");
  CHECK(first_error(text) ==
        "t.yaml:3:3: unknown key `colour` in `client`; the keys allowed here are base_url, "
        "auth, headers, rate_limit, max_in_flight, timeout, max_body_bytes, memory_budget, tls");

  text = yaml(minimal) + "    write_dispositon: append\n";
  CHECK(first_error(text) ==
        "t.yaml:9:5: unknown key `write_dispositon` in `resources[0]`; did you mean "
        "`write_disposition`?");

  text = yaml(minimal) + "      error_handler: {max_retry: 2}\n";
  CHECK(first_error(text) ==
        "t.yaml:9:23: unknown key `max_retry` in `resources[0].endpoint.error_handler`; did "
        "you mean `max_retries`?");
}

TEST_CASE("wrong types are refused, saying what was expected") {
  std::string text = yaml(minimal);
  text.insert(text.find("resources:"), "  headers: [a, b]\n");
  CHECK(first_error(text) ==
        "t.yaml:3:12: client.headers: expected a map of header names to values, found a list");

  text = yaml(minimal);
  text.insert(text.find("resources:"), "  max_in_flight: [4]\n");
  CHECK(first_error(text) ==
        "t.yaml:3:18: client.max_in_flight: expected a whole number of at least 1, found a list");

  text = yaml(minimal) + "    hard_delete: maybe\n";
  CHECK(first_error(text) ==
        "t.yaml:9:18: resources[0].hard_delete: expected true or false, found `maybe`");

  CHECK(first_error(yaml(R"(
client: {base_url: "https://api.test"}
resources:
  name: users
)")) == "t.yaml:3:3: resources: expected a list of resources (`- name: …`), found a map");

  CHECK(first_error(yaml(R"(
- client
- resources
)")) == "t.yaml:1:1: expected a map with `client`, `resources`, … at the top level, found a "
        "list");

  text = yaml(minimal) + "      error_handler: {retry_on_status_codes: 429}\n";
  CHECK(first_error(text) ==
        "t.yaml:9:46: resources[0].endpoint.error_handler.retry_on_status_codes: expected a "
        "list of HTTP statuses such as `[429, 503]`, found a single value");
  text = yaml(minimal) + "      error_handler: {retry_on_status_codes: [429, 200]}\n";
  CHECK(first_error(text) ==
        "t.yaml:9:52: resources[0].endpoint.error_handler.retry_on_status_codes[1]: expected a "
        "whole number from 400 to 599, found `200`");
  text = yaml(minimal) + "      error_handler: {backoff_factor: -1}\n";
  CHECK(contains(first_error(text), "expected a number of at least 0, found `-1`"));
}

TEST_CASE("missing required keys are refused") {
  CHECK(first_error(yaml(R"(
client:
  headers: {Accept: application/json}
resources: [{name: a, primary_key: id, endpoint: {path: /a, paginator: single_page}}]
)")) == "t.yaml:2:3: client: missing required key `base_url` (the API's http(s) URL, such as "
        "`https://api.example.com`)");

  CHECK(first_error(yaml(R"(
client: {base_url: "https://api.test"}
)")) == "t.yaml:1:1: missing required key `resources` (a list of resources, each with `name` "
        "and `endpoint: {path: …}`)");

  CHECK(first_error(yaml(R"(
client:
  base_url:
resources: [{name: a, primary_key: id, endpoint: {path: /a, paginator: single_page}}]
)")) == "t.yaml:2:3: client.base_url: no value given; expected the API's http(s) URL, such as "
        "`https://api.example.com`");

  CHECK(first_error(yaml(R"(
client: {base_url: "https://api.test"}
resources:
  - primary_key: id
    endpoint: {path: /a, paginator: single_page}
)")) == "t.yaml:3:5: resources[0]: missing required key `name` (the resource's name, which also "
        "names its table)");

  CHECK(first_error(yaml(R"(
client: {base_url: "https://api.test"}
resources:
  - name: a
    primary_key: id
    endpoint: {paginator: single_page}
)")) == "t.yaml:5:15: resources[0].endpoint: missing required key `path` (the endpoint's path "
        "below base_url, such as `/v1/users`)");

  CHECK(first_error(yaml(R"(
client: {base_url: "https://api.test"}
resources: []
)")) == "t.yaml:2:12: resources: the list is empty; list at least one resource to sync");
}

TEST_CASE("merge without a primary key is refused; append and replace need none") {
  const char* text = R"(
client: {base_url: "https://api.test"}
resources:
  - name: a
    endpoint: {path: /a, paginator: single_page}
)";
  CHECK(first_error(yaml(text)) ==
        "t.yaml:3:5: resources[0]: write_disposition `merge` needs a primary_key to match "
        "records on; set `primary_key` (here or in resource_defaults), or use "
        "write_disposition `append` or `replace`");
  std::string appended = yaml(text) + "    write_disposition: append\n";
  CHECK(load(appended).resources.at(0).primary_key.empty());
}

TEST_CASE("bad enum values list the allowed ones") {
  std::string text = yaml(minimal) + "    write_disposition: mrege\n";
  CHECK(first_error(text) ==
        "t.yaml:9:24: resources[0].write_disposition: `mrege` is not one of merge, append, "
        "replace; did you mean `merge`?");
  text = yaml(minimal) + "      method: PUT\n";
  CHECK(first_error(text) ==
        "t.yaml:9:15: resources[0].endpoint.method: `PUT` is not one of GET, POST");
}

TEST_CASE("durations in the configuration") {
  std::string text = yaml(minimal) + "    schedule: {interval: 15 min}\n";
  CHECK(first_error(text) ==
        "t.yaml:9:26: resources[0].schedule.interval: expected a duration such as `500ms`, "
        "`30s`, `15m`, `1h`, `1h30m` or a bare number of seconds, found `15 min`");
  text = yaml(minimal) + "    schedule: {interval: 0s}\n";
  CHECK(first_error(text) ==
        "t.yaml:9:26: resources[0].schedule.interval: must be longer than zero, found `0s`");
  text = yaml(minimal) + "    schedule: {interval: 90}\n    max_age: 500ms\n";
  const config cfg = load(text);
  CHECK(cfg.resources[0].schedule.interval == 90s);
  CHECK(cfg.resources[0].max_age == 500ms);
}

TEST_CASE("daemon keys: schedule jitter and backoff, shutdown_timeout, log level, metrics") {
  const config defaults = load(yaml(minimal));
  CHECK(defaults.resources[0].schedule.jitter == 0ms);
  CHECK(defaults.resources[0].schedule.failure_backoff == 30s);
  CHECK(defaults.daemon.shutdown_timeout == 30s);
  CHECK(defaults.daemon.lease == 60s);
  CHECK(defaults.daemon.instance.empty());
  CHECK(defaults.log.level == log_level::info);
  CHECK_FALSE(defaults.metrics.listen);

  const config cfg = load(yaml(minimal) +
                          "    schedule: {interval: 1m, jitter: 10s, failure_backoff: 5s}\n"
                          "daemon: {shutdown_timeout: 5s}\n"
                          "log: {level: debug}\n"
                          "metrics: {listen: 9187}\n");
  CHECK(cfg.resources[0].schedule.interval == 1min);
  CHECK(cfg.resources[0].schedule.jitter == 10s);
  CHECK(cfg.resources[0].schedule.failure_backoff == 5s);
  CHECK(cfg.daemon.shutdown_timeout == 5s);
  CHECK(cfg.log.level == log_level::debug);
  REQUIRE(cfg.metrics.listen);
  CHECK(cfg.metrics.listen->host == "127.0.0.1");
  CHECK(cfg.metrics.listen->port == 9187);

  // jitter may be zero; the others may not.
  CHECK(first_error(yaml(minimal) + "    schedule: {failure_backoff: 0s}\n") ==
        "t.yaml:9:33: resources[0].schedule.failure_backoff: must be longer than zero, found "
        "`0s`");
  CHECK(first_error(yaml(minimal) + "daemon: {shutdown_timeout: 0}\n") ==
        "t.yaml:9:28: daemon.shutdown_timeout: must be longer than zero, found `0`");
  const config leased = load(yaml(minimal) + "daemon: {lease: 10s, instance: sync-a}\n");
  CHECK(leased.daemon.lease == 10s);
  CHECK(leased.daemon.instance == "sync-a");
  CHECK(contains(first_error(yaml(minimal) + "daemon: {lease: 500ms}\n"),
                 "a lease under 1s would be renewed faster than a page commits"));
  CHECK(first_error(yaml(minimal) + "daemon: {shutdown_timout: 5s}\n") ==
        "t.yaml:9:10: unknown key `shutdown_timout` in `daemon`; did you mean "
        "`shutdown_timeout`?");
  CHECK(first_error(yaml(minimal) + "log: {level: verbose}\n") ==
        "t.yaml:9:14: log.level: `verbose` is not one of debug, info, warning, error");
  CHECK(contains(first_error(yaml(minimal) + "metrics: {listen: \"example.com:80\"}\n"),
                 "t.yaml:9:19: metrics.listen: `example.com:80` is not a listen address; "
                 "expected a port such as `9187`"));
  CHECK(first_error(yaml(minimal) + "metrics: 9187\n") ==
        "t.yaml:9:10: metrics: expected a map with `listen`, found a single value");
  CHECK(first_error(yaml(minimal) + "metric: {listen: 1}\n") ==
        "t.yaml:9:1: unknown top-level key `metric`; did you mean `metrics`?");

  // resource_defaults carry the schedule like any other map.
  const config merged = load(yaml(R"(
client: {base_url: https://api.test}
resource_defaults:
  schedule: {interval: 10m, jitter: 30s}
resources:
  - name: a
    primary_key: id
    endpoint: {path: /a, paginator: single_page}
  - name: b
    primary_key: id
    schedule: {jitter: 0s}
    endpoint: {path: /b, paginator: single_page}
)"));
  CHECK(merged.resources[0].schedule.jitter == 30s);
  CHECK(merged.resources[1].schedule.interval == 10min);
  CHECK(merged.resources[1].schedule.jitter == 0ms);

  const std::string plan = describe_plan(cfg);
  CHECK(contains(plan,
                 "schedule           every 1m plus up to 10s; after a failure again in 5s, "
                 "doubling, at most every 1m\n"));
  CHECK(contains(plan,
                 "\nrestsyncd run\n  shutdown_timeout   5s\n  log level          debug\n"
                 "  metrics            http://127.0.0.1:9187/metrics\n"));
  CHECK(contains(describe_plan(defaults), "  metrics            off\n"));
}

TEST_CASE("listen addresses") {
  auto check = [](const char* text, const char* host, unsigned port) {
    auto a = parse_listen_address(text);
    INFO(text);
    REQUIRE(a);
    CHECK(a->host == host);
    CHECK(a->port == port);
  };
  check("9187", "127.0.0.1", 9187);
  check("0", "127.0.0.1", 0);
  check("127.0.0.1:9187", "127.0.0.1", 9187);
  check("localhost:80", "127.0.0.1", 80);
  check("0.0.0.0:9187", "0.0.0.0", 9187);
  check("[::1]:9187", "::1", 9187);
  check("[::]:1", "::", 1);
  for (const char* bad : {"", ":", "65536", "-1", "host:1", "1.2.3:4", "[::1]", "[::1]9187",
                          "::1:9187", "127.0.0.1:", "127.0.0.1:x", "[nope]:1"}) {
    INFO(bad);
    CHECK_FALSE(parse_listen_address(bad));
  }
  CHECK(to_string(*parse_listen_address("[::1]:5")) == "[::1]:5");
  CHECK(to_string(*parse_listen_address("5")) == "127.0.0.1:5");
}

TEST_CASE("parse_duration and format_duration") {
  CHECK(parse_duration("500ms") == 500ms);
  CHECK(parse_duration("30s") == 30s);
  CHECK(parse_duration("15m") == 15min);
  CHECK(parse_duration("1h") == 1h);
  CHECK(parse_duration("2d") == 48h);
  CHECK(parse_duration("1h30m") == 90min);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration("30") == 30s);
  CHECK(parse_duration("0.25") == 250ms);
  CHECK(parse_duration(" 5s ") == 5s);
  CHECK(parse_duration("0") == 0ms);
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("s"));
  CHECK_FALSE(parse_duration("-5s"));
  CHECK_FALSE(parse_duration("5 s"));
  CHECK_FALSE(parse_duration("5x"));
  CHECK_FALSE(parse_duration("1h30"));
  CHECK_FALSE(parse_duration("1e3s"));
  CHECK_FALSE(parse_duration("inf"));
  CHECK_FALSE(parse_duration("99999999999999d"));
  CHECK(format_duration(0ms) == "0s");
  CHECK(format_duration(500ms) == "500ms");
  CHECK(format_duration(90min) == "1h30m");
  CHECK(format_duration(1500ms) == "1s500ms");
  CHECK(format_duration(48h) == "2d");
  for (std::chrono::milliseconds d : {1ms, 999ms, 61000ms, 90000000ms, 3723004ms}) {
    CHECK(parse_duration(format_duration(d)) == d);
  }
}

TEST_CASE("byte sizes") {
  CHECK(parse_byte_size("1024") == 1024);
  CHECK(parse_byte_size("64MiB") == 64 << 20);
  CHECK(parse_byte_size("64 MiB") == 64 << 20);
  CHECK(parse_byte_size("2KB") == 2000);
  CHECK(parse_byte_size("1GiB") == std::int64_t{1} << 30);
  CHECK_FALSE(parse_byte_size("64M"));
  CHECK_FALSE(parse_byte_size("-1"));
  CHECK_FALSE(parse_byte_size("lots"));
  CHECK_FALSE(parse_byte_size("99999999999999999GiB"));
  CHECK(format_byte_size(64 << 20) == "64 MiB");
  CHECK(format_byte_size(1000) == "1000 bytes");

  std::string text = yaml(minimal);
  text.insert(text.find("resources:"), "  max_body_bytes: 0\n");
  CHECK(first_error(text) ==
        "t.yaml:3:19: client.max_body_bytes: expected a size above 0 such as `67108864` or "
        "`64MiB`, found `0`");
  text = yaml(minimal);
  text.insert(text.find("resources:"), "  memory_budget: lots\n");
  CHECK(first_error(text) ==
        "t.yaml:3:18: client.memory_budget: expected a size above 0 such as `67108864` or "
        "`64MiB`, found `lots`");
}

TEST_CASE("other limits must be positive") {
  auto client_error = [](const std::string& line) {
    std::string text = yaml(minimal);
    text.insert(text.find("resources:"), line);
    return first_error(text);
  };
  CHECK(client_error("  max_in_flight: 0\n") ==
        "t.yaml:3:18: client.max_in_flight: expected a whole number of at least 1, found `0`");
  CHECK(client_error("  rate_limit: {requests_per_second: -1}\n") ==
        "t.yaml:3:37: client.rate_limit.requests_per_second: expected a number of at least 0, "
        "found `-1`");
  CHECK(client_error("  rate_limit: {burst: 0}\n") ==
        "t.yaml:3:23: client.rate_limit.burst: expected a whole number of at least 1, found `0`");
  CHECK(client_error("  timeout: {connect: 0}\n") ==
        "t.yaml:3:22: client.timeout.connect: must be longer than zero, found `0`");
}

TEST_CASE("base_url must be an absolute http(s) URL") {
  auto error = [](const std::string& url) {
    std::string text = yaml(minimal);
    text.replace(text.find("https://api.test"), 16, url);
    return first_error(text);
  };
  CHECK(error("ftp://api.test") ==
        "t.yaml:2:13: client.base_url: `ftp://api.test`: scheme 'ftp' is not http or https; "
        "expected an absolute http(s) URL such as `https://api.example.com`");
  CHECK(contains(error("api.test/v1"), "not an absolute URL"));
  CHECK(contains(error("https://api.test/v1?x=1"), "must not carry a query"));
}

TEST_CASE("endpoint paths") {
  auto path_error = [](const std::string& p) {
    std::string text = yaml(minimal);
    text.replace(text.find("/v1/users"), 9, p);
    return first_error(text);
  };
  CHECK(path_error("/v1/users?active=1") ==
        "t.yaml:7:13: resources[0].endpoint.path: `/v1/users?active=1` carries a query; put "
        "query parameters under `params`");
  CHECK(contains(path_error("\"/v1/{id}/users\""),
                 "`{id}` in the path names no parameter; write `{resources.<parent>.<field>}`"));
  std::string text = yaml(minimal);
  text.replace(text.find("/v1/users"), 9, "https://other.test/x");
  const config cfg = load(text);
  CHECK(resource_url(cfg.client, cfg.resources[0].endpoint) == "https://other.test/x");
}

TEST_CASE("duplicate resources and duplicate keys are refused") {
  CHECK(first_error(yaml(R"(
client: {base_url: "https://api.test"}
resource_defaults: {primary_key: id, endpoint: {paginator: single_page}}
resources:
  - name: users
    endpoint: /a
  - name: labels
    endpoint: /b
  - name: users
    endpoint: /c
)")) == "t.yaml:8:11: resources[2].name: duplicate resource name `users` (first used at line "
        "4); resource names must be unique because each names a table");

  CHECK(first_error(yaml(R"(
client:
  base_url: https://api.test
  base_url: https://other.test
resources: [{name: a, primary_key: id, endpoint: {path: /a, paginator: single_page}}]
)")) == "t.yaml:3:3: client: duplicate key `base_url` (first given at line 2); keep only one");
}

TEST_CASE("YAML syntax errors are reported at yaml-cpp's mark") {
  CHECK(first_error(yaml(R"(
client:
  base_url: https://api.test
 resources: []
)")) == "t.yaml:3:2: YAML syntax error: end of map not found");
  CHECK(first_error("client: {base_url: x\n") ==
        "t.yaml:2:1: YAML syntax error: end of map flow not found");
  CHECK(first_error(yaml(R"(
client:
  base_url: https://api.test
  auth: {type: bearer, token: ${env:TOKEN}}
)")) == "t.yaml:3:32: YAML syntax error: end of map flow not found; inside `{…}` or `[…]` "
        "quote a value that holds a reference: \"${env:NAME}\"");
  CHECK(first_error("") ==
        "t.yaml:1:1: the configuration is empty; expected a map with at least `client: "
        "{base_url: …}` and `resources: […]`");
  CHECK(contains(first_error(yaml(minimal) + "---\nmore: 1\n"),
                 "t.yaml:10:1: a second YAML document starts here"));
}

namespace {

// Lists of nine, each level nine of the level below: 9^levels scalars
// from a few hundred bytes.
std::string alias_bomb(int levels) {
  std::string y = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < levels; ++i) {
    y += fmt::format("a{}: &a{} [", i, i);
    for (int k = 0; k < 9; ++k) y += fmt::format("{}*a{}", k == 0 ? "" : ", ", i - 1);
    y += "]\n";
  }
  return y;
}

const std::string too_many_values =
    fmt::format("more than {} values", config_expansion_limits.values);
const std::string too_much_text =
    fmt::format("more than {} MiB", config_expansion_limits.bytes >> 20);

}  // namespace

TEST_CASE("a YAML alias bomb is refused at its file:line:column, not expanded") {
  // 9^6 = 531,441 scalars from 306 bytes; the loader used to spell them all
  // out (176 MB at 9^6, 1.6 GB at 9^7, std::bad_alloc at 9^9).
  static_assert(config_expansion_limits.values < 531'441);
  const auto bomb = alias_bomb(6);
  REQUIRE(bomb.size() < 400);
  const auto errors = errors_of(yaml(minimal) + bomb);
  REQUIRE(errors.size() == 1);
  // Where the count ran out: inside a5, at the line of the anchor that the
  // innermost alias stands for.
  CHECK(contains(errors[0], "t.yaml:9:16: a5[0][3][3][7][1][2]: "));
  CHECK(contains(errors[0], too_many_values));
  CHECK(contains(errors[0], "alias bomb"));

  // Counted in bytes too: one long scalar repeated by aliases.
  std::string text = yaml(minimal) + "s: &s \"" + std::string(100'000, 'x') + "\"\nl: [";
  for (int i = 0; i < 400; ++i) text += i == 0 ? "*s" : ", *s";
  text += "]\n";
  const auto bytes = errors_of(text);
  REQUIRE(bytes.size() == 1);
  CHECK(contains(bytes[0], "t.yaml:9:4: l["));
  CHECK(contains(bytes[0], too_much_text));
}

TEST_CASE("resource_defaults merged into many resources count against the same limit") {
  // 1,000 parameters in the defaults and 300 resources: 2,000 values as
  // written, 300,000 once every resource has its own copy.
  std::string text =
      "client: {base_url: \"https://api.test\"}\nresource_defaults:\n"
      "  primary_key: id\n  endpoint:\n    paginator: single_page\n    params:\n";
  for (int i = 0; i < 1000; ++i) text += fmt::format("      p{}: v\n", i);
  text += "resources:\n";
  for (int i = 0; i < 300; ++i) text += fmt::format("  - {{name: r{}, endpoint: /r{}}}\n", i, i);
  const auto errors = errors_of(text);
  REQUIRE(errors.size() == 1);
  // The resource at which the copies outgrew the limit.
  CHECK(contains(errors[0], ": resources[9"));
  CHECK(contains(errors[0], too_many_values));
  CHECK(contains(errors[0], "once resource_defaults are merged into each resource"));
}

TEST_CASE("a configuration file beyond the byte limit is refused before it is parsed") {
  temp_dir dir;
  const auto file = dir.write(
      "big.yaml", yaml(minimal) + "# " + std::string(config_expansion_limits.bytes, 'x') + "\n");
  try {
    load_config(file);
    FAIL("the configuration was accepted");
  } catch (const config_error& e) {
    REQUIRE(e.messages().size() == 1);
    CHECK(contains(e.messages()[0], file.string() + ": the file holds " + too_much_text));
  }
}

TEST_CASE("text that ${file:} and ${env:} bring in counts against the same limit") {
  // 100 KB read once per resource: 10 MB for a hundred resources, from a
  // file of two kilobytes.
  temp_dir dir;
  dir.write("big.txt", std::string(100'000, 'v'));
  std::string text =
      "client: {base_url: \"https://api.test\"}\nresource_defaults:\n"
      "  primary_key: id\n  endpoint:\n    paginator: single_page\n"
      "    params: {p: \"${file:big.txt}\"}\nresources:\n";
  for (int i = 0; i < 100; ++i) text += fmt::format("  - {{name: r{}, endpoint: /r{}}}\n", i, i);
  const auto errors = errors_of(text, dir.path());
  REQUIRE(errors.size() == 1);
  CHECK(contains(errors[0], "t.yaml:6:17: resource_defaults.endpoint.params.p: "));
  CHECK(contains(errors[0], too_much_text));
  CHECK(contains(errors[0], "once its references (`${…}`) are substituted"));
}

TEST_CASE("${file:} stops reading a file beyond the byte limit") {
  const auto error = first_error(yaml(R"(
client:
  base_url: https://api.test
  headers: {X-Token: "${file:/dev/zero}"}
resources: [{name: a, primary_key: id, endpoint: {path: /a, paginator: single_page}}]
)"));
  CHECK(contains(error, "t.yaml:3:22: client.headers.X-Token: "));
  CHECK(contains(error, "`${file:/dev/zero}` holds " + too_much_text));
}

TEST_CASE("every problem is reported, in file order") {
  const auto errors = errors_of(yaml(R"(
client:
  base_url: https://api.test
  max_in_flight: 0
resources:
  - name: a
    write_disposition: upsert
    endpoint: {path: /a, paginator: {type: offset, limit: 0}}
  - name: b
    primary_key: id
    schedule: {interval: soon}
    endpoint: {path: /b, paginator: single_page}
)"));
  REQUIRE(errors.size() == 4);
  CHECK(contains(errors[0], "t.yaml:3:18: client.max_in_flight"));
  CHECK(contains(errors[1], "t.yaml:6:24: resources[0].write_disposition"));
  CHECK(contains(errors[2], "t.yaml:7:59: resources[0].endpoint.paginator.limit"));
  CHECK(contains(errors[3], "t.yaml:10:26: resources[1].schedule.interval"));
}

TEST_CASE("${env:} substitution, embedded, with defaults and escapes") {
  scoped_env host("CFG_TEST_HOST", "api.test");
  scoped_env empty("CFG_TEST_EMPTY", "");
  scoped_env unset("CFG_TEST_UNSET", nullptr);
  std::string text = yaml(R"(
client:
  base_url: https://${env:CFG_TEST_HOST}:8443/v1
  headers:
    X-A: ${env:CFG_TEST_UNSET:-fallback}
    X-B: "${env:CFG_TEST_EMPTY:-used-when-empty}"
    X-C: "$${env:CFG_TEST_HOST} stays literal"
    X-D: price $5 and $$ too
resources:
  - name: users
    primary_key: id
    endpoint:
      path: /users
      paginator: {type: offset, limit: "${env:CFG_TEST_UNSET:-20}"}
)");
  const config cfg = load(text);
  CHECK(cfg.client.base_url == "https://api.test:8443/v1");
  CHECK(cfg.client.headers == query_params{{"X-A", "fallback"},
                                           {"X-B", "used-when-empty"},
                                           {"X-C", "${env:CFG_TEST_HOST} stays literal"},
                                           {"X-D", "price $5 and $$ too"}});
  CHECK(std::get<offset_paginator>(cfg.resources[0].endpoint.paginator).limit == 20);
}

TEST_CASE("substitution mistakes name the reference") {
  scoped_env unset("CFG_TEST_UNSET", nullptr);
  std::string text = yaml(minimal);
  text.insert(text.find("resources:"), "  headers: {X-A: \"pre-${env:CFG_TEST_UNSET}-post\"}\n");
  CHECK(first_error(text) ==
        "t.yaml:3:18: client.headers.X-A: environment variable `CFG_TEST_UNSET` is not set "
        "(referenced as `${env:CFG_TEST_UNSET}`); set it in the daemon's environment (systemd: "
        "Environment= or EnvironmentFile=), or write `${env:CFG_TEST_UNSET:-default}` to fall "
        "back to a default");

  auto header_error = [](const std::string& value) {
    std::string t = yaml(minimal);
    t.insert(t.find("resources:"), "  headers: {X-A: \"" + value + "\"}\n");
    return first_error(t);
  };
  CHECK(contains(header_error("${vault:x}"),
                 "`${vault:x}`: unknown source `vault`; use env, "
                 "file or credential"));
  CHECK(contains(header_error("${HOME}"), "`${HOME}` names no source; write `${env:HOME}`"));
  CHECK(contains(header_error("${env:HOME"), "unterminated `${`"));
  CHECK(contains(header_error("${env:1X}"), "`1X` is not an environment variable name"));
}

TEST_CASE("${file:} reads a file, relative to the configuration's directory") {
  temp_dir dir;
  dir.write("token", "file-token-1\n");
  dir.write("url", "https://from.file\r\n");
  const fs::path config_file = dir.write("c.yaml", yaml(R"(
client:
  base_url: ${file:url}
  auth: {type: bearer, token: "${file:token}"}
resources: [{name: a, primary_key: id, endpoint: {path: /a, paginator: single_page}}]
)"));
  const config cfg = load_config(config_file);
  CHECK(cfg.client.base_url == "https://from.file");
  CHECK(cfg.client.auth.token == "file-token-1");
  // Anything read from a file is treated as a secret, wherever it is used.
  const std::string plan = describe_plan(cfg);
  CHECK_FALSE(contains(plan, "file-token-1"));
  CHECK_FALSE(contains(plan, "https://from.file"));
  CHECK(contains(plan, "base_url           ***"));

  const std::string absolute = "${file:" + (dir.path() / "token").string() + "}";
  std::string text = yaml(minimal);
  text.insert(text.find("resources:"), "  headers: {X-A: \"" + absolute + "\"}\n");
  CHECK(load(text).client.headers.at(0).second == "file-token-1");

  text = yaml(minimal);
  text.insert(text.find("resources:"), "  headers: {X-A: \"${file:missing}\"}\n");
  CHECK(first_error(text, dir.path()) ==
        "t.yaml:3:18: client.headers.X-A: cannot read `${file:missing}` (" +
            (dir.path() / "missing").string() + "): No such file or directory");
}

TEST_CASE("${credential:} reads $CREDENTIALS_DIRECTORY/NAME") {
  temp_dir dir;
  dir.write("api_key", "cred-key-1\n\n");
  std::string text = yaml(minimal);
  text.insert(text.find("resources:"),
              "  auth: {type: api_key, name: token, api_key: \"${credential:api_key}\"}\n");
  {
    scoped_env creds("CREDENTIALS_DIRECTORY", dir.path().c_str());
    const config cfg = load(text);
    CHECK(cfg.client.auth.api_key == "cred-key-1");
    CHECK_FALSE(contains(describe_plan(cfg), "cred-key-1"));
  }
  {
    scoped_env creds("CREDENTIALS_DIRECTORY", nullptr);
    CHECK(contains(first_error(text),
                   "t.yaml:3:47: client.auth.api_key: `${credential:api_key}`: "
                   "$CREDENTIALS_DIRECTORY is not set; systemd sets it for a service with "
                   "LoadCredential=api_key:/path/to/secret"));
  }
  {
    scoped_env creds("CREDENTIALS_DIRECTORY", dir.path().c_str());
    std::string bad = text;
    bad.replace(bad.find("credential:api_key"), 18, "credential:../api_key");
    CHECK(contains(first_error(bad), "`../api_key` is not a credential name"));
  }
}

TEST_CASE("substitute() on its own") {
  scoped_env v("CFG_TEST_V", "vv");
  temp_dir dir;
  dir.write("s", "secret-part\n");
  const substitution s = substitute("a-${env:CFG_TEST_V}-${file:s}-$${x}", dir.path());
  CHECK(s.value == "a-vv-secret-part-${x}");
  CHECK(s.secret_parts == std::vector<std::string>{"secret-part"});
  CHECK(s.resolved_reference);
  const substitution plain = substitute("no references, $ and $$", {});
  CHECK(plain.value == "no references, $ and $$");
  CHECK_FALSE(plain.resolved_reference);
  CHECK(plain.secret_parts.empty());
  CHECK_THROWS_AS(substitute("${env:CFG_TEST_NOT_SET_ANYWHERE}", {}), substitution_error);
}

TEST_CASE("secrets are masked in the plan") {
  temp_dir dir;
  dir.write("pg", "pg-pass-1");
  scoped_env creds("CREDENTIALS_DIRECTORY", dir.path().c_str());
  const config cfg = load(yaml(R"(
client:
  base_url: https://api.test
  auth: {type: bearer, token: literal-token-1}
  headers:
    X-Api-Key: header-key-1
    X-Request-Source: restsync
destination:
  connection: "host=db user=sync password=${credential:pg} dbname=x"
resources:
  - name: users
    primary_key: id
    endpoint:
      path: /users
      params: {access_token: param-token-1, state: open}
      paginator: single_page
)"));
  const std::string plan = describe_plan(cfg);
  for (const char* secret : {"literal-token-1", "header-key-1", "pg-pass-1", "param-token-1"}) {
    CAPTURE(secret);
    CHECK_FALSE(contains(plan, secret));
  }
  CHECK(contains(plan, "bearer token ***"));
  CHECK(contains(plan, "X-Api-Key: ***, X-Request-Source: restsync"));
  CHECK(contains(plan, "host=db user=sync password=*** dbname=x"));
  CHECK(contains(plan, "GET https://api.test/users?access_token=***&state=open"));
  CHECK(contains(plan, "schema             analytics"));
}

TEST_CASE("a short secret is masked only as a whole value, and the plan warns about it") {
  temp_dir dir;
  dir.write("t", "tok");
  scoped_env creds("CREDENTIALS_DIRECTORY", dir.path().c_str());
  const config cfg = load(yaml(R"(
client:
  base_url: https://api.test/v1
  auth: {type: bearer, token: "${credential:t}"}
  headers: {X-Token: "${credential:t}"}
resources:
  - name: stock
    primary_key: id
    endpoint:
      path: /stock
      params: {q: "a tok b"}
      paginator: single_page
)"));
  const std::string plan = describe_plan(cfg);
  CHECK(contains(plan,
                 "configuration t.yaml\n\nwarning: 1 secret is shorter than 6 characters, "
                 "masked only where a whole value is the secret"));
  CHECK(contains(plan, "bearer token ***\n"));
  CHECK(contains(plan, "X-Token: ***\n"));
  // Inside other values it shows, and the plan's own words stay whole.
  CHECK(contains(plan, "GET https://api.test/v1/stock?q=a%20tok%20b\n"));
  CHECK(contains(plan, "\n  stock\n"));

  secret_set long_only;
  long_only.add("long-enough-secret");
  config quiet = cfg;
  quiet.secrets = long_only;
  CHECK_FALSE(contains(describe_plan(quiet), "warning:"));
}

TEST_CASE("a literal password in the connection string is masked too") {
  std::string text = yaml(minimal);
  text.insert(text.find("resources:"), "");
  text += "destination: {connection: \"postgresql://sync:uri-pass-1@db:5432/x\"}\n";
  const config cfg = load(text);
  CHECK(cfg.destination.connection == "postgresql://sync:uri-pass-1@db:5432/x");
  const std::string plan = describe_plan(cfg);
  CHECK_FALSE(contains(plan, "uri-pass-1"));
  CHECK(contains(plan, "postgresql://sync:***@db:5432/x"));
}

TEST_CASE("no error message shows a secret") {
  temp_dir dir;
  dir.write("k", "file-secret-1");
  scoped_env creds("CREDENTIALS_DIRECTORY", dir.path().c_str());
  scoped_env env_secret("CFG_TEST_SECRET", "env-secret-1");
  const auto errors = errors_of(yaml(R"(
client:
  base_url: "${credential:k}"
  auth: {type: api_key, api_key: "${env:CFG_TEST_SECRET}"}
resources:
  - name: users
    primary_key: id
    schedule: {interval: "${env:CFG_TEST_SECRET}"}
    endpoint:
      path: /users
      paginator: {type: offset, limit: "${credential:k}"}
)"));
  REQUIRE(errors.size() == 3);
  CHECK(errors[0] ==
        "t.yaml:2:13: client.base_url: the value of `${credential:k}`: is not an absolute "
        "http(s) URL; expected an absolute http(s) URL such as `https://api.example.com`");
  CHECK(contains(errors[1], "found the value of `${env:CFG_TEST_SECRET}`"));
  CHECK(contains(errors[2], "found the value of `${credential:k}`"));
  for (const auto& e : errors) {
    CHECK_FALSE(contains(e, "file-secret-1"));
    CHECK_FALSE(contains(e, "env-secret-1"));
  }
}

TEST_CASE("a one-character secret leaves the words of error messages whole") {
  scoped_env key("CFG_TEST_SHORT", "a");
  const auto errors = errors_of(yaml(R"(
client:
  base_url: https://api.test
  auth: {type: api_key, name: key, api_key: "${env:CFG_TEST_SHORT}"}
resources:
  - name: users
    primary_key: id
    max_age: later
    endpoint: {path: /users, paginator: single_page}
)"));
  REQUIRE(errors.size() == 1);
  INFO(errors[0]);
  CHECK(contains(errors[0], "t.yaml:7:14: resources[0].max_age: "));
  CHECK_FALSE(contains(errors[0], "***"));
}

TEST_CASE("headers: names must be tokens, values one line") {
  std::string text = yaml(minimal);
  text.insert(text.find("resources:"), "  headers: {\"Bad Name\": x}\n");
  CHECK(contains(first_error(text),
                 "t.yaml:3:13: client.headers: `Bad Name` is not a valid HTTP header name"));
  temp_dir dir;
  dir.write("two-lines", "a\nb\n");
  text = yaml(minimal);
  text.insert(text.find("resources:"), "  headers: {X-A: \"${file:two-lines}\"}\n");
  CHECK(first_error(text, dir.path()) ==
        "t.yaml:3:18: client.headers.X-A: a header value must not contain a line break; check "
        "the file or variable it comes from");
}

TEST_CASE("tls.ca_file must be readable") {
  temp_dir dir;
  dir.write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  std::string text = yaml(minimal);
  text.insert(text.find("resources:"), "  tls: {ca_file: ca.pem}\n");
  CHECK(load(text, dir.path()).client.tls.ca_file == (dir.path() / "ca.pem").string());
  CHECK(contains(first_error(text, fs::path("/nonexistent-dir")),
                 "t.yaml:3:18: client.tls.ca_file: cannot read `ca.pem` "
                 "(/nonexistent-dir/ca.pem)"));
}

TEST_CASE("destination schema") {
  std::string text = yaml(minimal) + "destination: {schema: \"\"}\n";
  CHECK(first_error(text) ==
        "t.yaml:9:23: destination.schema: is empty; expected a PostgreSQL schema name such as "
        "`analytics`");
  text = yaml(minimal) + "destination: {schema: " + std::string(64, 's') + "}\n";
  CHECK(contains(first_error(text), "at most 63 bytes"));
}

TEST_CASE("destination connections") {
  CHECK(load(yaml(minimal)).destination.connections == 2);
  CHECK(load(yaml(minimal) + "destination: {connections: 1}\n").destination.connections == 1);
  CHECK(load(yaml(minimal) + "destination: {connections: 16}\n").destination.connections == 16);
  for (const char* bad : {"0", "17", "two", "1.5"}) {
    CAPTURE(bad);
    auto e = first_error(yaml(minimal) + "destination: {connections: " + bad + "}\n");
    CHECK(contains(e, "t.yaml:9:28: destination.connections: "));
  }
  CHECK(contains(first_error(yaml(minimal) + "destination: {conections: 2}\n"),
                 "did you mean `connections`"));
}

TEST_CASE("load_config on a missing file") {
  try {
    load_config("/nonexistent-dir/restsync.yaml");
    FAIL("accepted");
  } catch (const config_error& e) {
    REQUIRE(e.messages().size() == 1);
    CHECK(e.messages()[0] ==
          "/nonexistent-dir/restsync.yaml: cannot read the configuration: No such file or "
          "directory");
    CHECK(std::string(e.what()) == e.messages()[0]);
  }
  temp_dir dir;
  CHECK_THROWS_WITH_AS(load_config(dir.path()), doctest::Contains("is a directory"), config_error);
  CHECK(exit_config_error == 78);
}

TEST_CASE("find_resource") {
  const config cfg = load(yaml(minimal));
  REQUIRE(find_resource(cfg, "users") != nullptr);
  CHECK(find_resource(cfg, "users")->endpoint.path == "/v1/users");
  CHECK(find_resource(cfg, "nope") == nullptr);
}

TEST_CASE("edit distance and suggestions") {
  CHECK(edit_distance("offset", "offset") == 0);
  CHECK(edit_distance("offest", "offset") == 1);
  CHECK(edit_distance("baseUrl", "base_url") == 1);
  CHECK(edit_distance("", "abc") == 3);
  const std::string_view keys[] = {"base_url", "auth", "headers"};
  CHECK(closest_match("base_ur", keys) == "base_url");
  CHECK(closest_match("hedaers", keys) == "headers");
  CHECK_FALSE(closest_match("colour", keys));
  CHECK_FALSE(closest_match("x", keys));
}

TEST_CASE("conninfo_passwords finds passwords as written") {
  CHECK(conninfo_passwords("host=db password=s3cret dbname=x") ==
        std::vector<std::string>{"s3cret"});
  CHECK(conninfo_passwords("password = 'with space' host=db") ==
        std::vector<std::string>{"with space"});
  CHECK(conninfo_passwords("postgres://u:p%40ss@db/x?password=other") ==
        std::vector<std::string>{"p%40ss", "other"});
  CHECK(conninfo_passwords("host=db").empty());
  CHECK(conninfo_passwords("").empty());
}

TEST_CASE("dlt's {incremental.*} placeholders in params: replaced, or the parameter left out") {
  const query_params params = {{"since", "{incremental.start_value}"},
                               {"window", "{incremental.initial_value}..{incremental.end_value}"},
                               {"fixed", "1"}};
  auto q = expand_incremental_placeholders(params, std::string("2024-01-02T00:00:00Z"),
                                           std::nullopt, std::string("2024-01-01"));
  CHECK(q == query_params{{"since", "2024-01-02T00:00:00Z"}, {"fixed", "1"}});
  q = expand_incremental_placeholders(params, std::nullopt, std::string("9"), std::string("1"));
  CHECK(q == query_params{{"window", "1..9"}, {"fixed", "1"}});
}

// Enums are decoded by name: each name of every enum-valued key reads as its
// own value, whatever the order of the reader's name tables.
TEST_CASE("every enum-valued key decodes each of its names to its own value") {
  auto resource_with = [](const std::string& resource_keys, const std::string& endpoint_keys) {
    return load(fmt::format(R"(client:
  base_url: https://api.test
resources:
  - name: users
    primary_key: id
{}    endpoint:
      path: /v1/users
{})",
                            resource_keys, endpoint_keys))
        .resources.at(0);
  };
  for (auto [name, value] :
       {std::pair{"merge", disposition::merge}, std::pair{"append", disposition::append},
        std::pair{"replace", disposition::replace}}) {
    CAPTURE(name);
    CHECK(resource_with(fmt::format("    write_disposition: {}\n", name),
                        "      paginator: single_page\n")
              .write_disposition == value);
  }
  for (auto [name, value] :
       {std::pair{"asc", row_order::asc}, std::pair{"desc", row_order::desc}}) {
    CAPTURE(name);
    auto r = resource_with("", fmt::format("      paginator: single_page\n"
                                           "      incremental: {{cursor_path: t, row_order: {}}}\n",
                                           name));
    CHECK(r.endpoint.incremental->order == value);
  }
  for (auto [name, value] : {std::pair{"raise", missing_cursor_action::raise},
                             std::pair{"include", missing_cursor_action::include},
                             std::pair{"exclude", missing_cursor_action::exclude}}) {
    CAPTURE(name);
    auto r = resource_with(
        "", fmt::format("      paginator: single_page\n"
                        "      incremental: {{cursor_path: t, on_cursor_value_missing: {}}}\n",
                        name));
    CHECK(r.endpoint.incremental->on_cursor_value_missing == value);
  }
  for (const char* name :
       {"single_page", "offset", "page_number", "cursor", "json_link", "header_link"}) {
    CAPTURE(name);
    auto r = resource_with("", fmt::format("      paginator: {}\n", name));
    const auto& p = r.endpoint.paginator;
    const std::string_view n = name;
    CHECK((n == "single_page") == std::holds_alternative<single_page_paginator>(p));
    CHECK((n == "offset") == std::holds_alternative<offset_paginator>(p));
    CHECK((n == "page_number") == std::holds_alternative<page_number_paginator>(p));
    CHECK((n == "cursor") == std::holds_alternative<cursor_paginator>(p));
    CHECK((n == "json_link") == std::holds_alternative<json_link_paginator>(p));
    CHECK((n == "header_link") == std::holds_alternative<header_link_paginator>(p));
  }
  for (auto [name, value] :
       {std::pair{"debug", log_level::debug}, std::pair{"info", log_level::info},
        std::pair{"warning", log_level::warning}, std::pair{"error", log_level::error}}) {
    CAPTURE(name);
    CHECK(load(yaml(minimal) + fmt::format("log: {{level: {}}}\n", name)).log.level == value);
  }
  auto auth_with = [](const std::string& auth) {
    return load(fmt::format(R"(client:
  base_url: https://api.test
  auth: {}
resources:
  - name: users
    primary_key: id
    endpoint: {{path: /v1/users, paginator: single_page}}
)",
                            auth))
        .client.auth;
  };
  CHECK(auth_with("{token: t}").type == auth_type::bearer);
  CHECK(auth_with("{type: bearer, token: t}").type == auth_type::bearer);
  CHECK(auth_with("{type: http_basic, username: u, password: p}").type == auth_type::http_basic);
  CHECK(auth_with("{type: api_key, name: X-Key, api_key: k}").type == auth_type::api_key);
  CHECK(auth_with("{type: api_key, name: X-Key, api_key: k}").location == api_key_location::header);
  CHECK(auth_with("{type: api_key, name: key, api_key: k, location: header}").location ==
        api_key_location::header);
  CHECK(auth_with("{type: api_key, name: key, api_key: k, location: query}").location ==
        api_key_location::query);
}

TEST_CASE("error_handler: the 429 budget is a time, a count only when asked for") {
  auto handler = [](const std::string& keys) {
    return load(yaml(minimal) + "      error_handler: {" + keys + "}\n")
        .resources.at(0)
        .endpoint.error_handler;
  };
  auto h = handler("max_rate_limit_wait: 5m");
  CHECK(h.max_rate_limit_wait == 5min);
  CHECK_FALSE(h.max_rate_limit_retries);
  h = handler("max_rate_limit_retries: 4");
  CHECK(h.max_rate_limit_retries == 4);
  CHECK(h.max_rate_limit_wait == 15min);
  CHECK(contains(first_error(yaml(minimal) + "      error_handler: {max_rate_limit_wait: 0}\n"),
                 "resources[0].endpoint.error_handler.max_rate_limit_wait: must be longer than "
                 "zero"));
}

TEST_CASE("response_actions: dlt's list of responses to ignore") {
  auto cfg = load(yaml(minimal) + R"(      response_actions:
        - {status_code: 404, action: ignore}
        - {content: "no data", action: ignore}
        - {status_code: 200, content: "Not Found", action: ignore}
)");
  const auto& actions = cfg.resources[0].endpoint.response_actions;
  REQUIRE(actions.size() == 3);
  CHECK(actions[0] == response_action{404, std::nullopt});
  CHECK(actions[1] == response_action{std::nullopt, "no data"});
  CHECK(actions[2] == response_action{200, "Not Found"});
  CHECK(contains(describe_plan(cfg),
                 "response_actions   ignore a response with status 404, or body contains \"no "
                 "data\", or status 200 and body contains \"Not Found\""));
  CHECK(load(yaml(minimal)).resources[0].endpoint.response_actions.empty());
}

TEST_CASE("response_actions: mistakes are named where they are") {
  auto with = [](const std::string& actions) {
    return first_error(yaml(minimal) + "      response_actions: " + actions + "\n");
  };
  CHECK(with("{status_code: 404, action: ignore}") ==
        "t.yaml:9:25: resources[0].endpoint.response_actions: expected a list such as "
        "`[{status_code: 404, action: ignore}]`, found a map");
  CHECK(with("[{action: ignore}]") ==
        "t.yaml:9:26: resources[0].endpoint.response_actions[0]: matches nothing: give "
        "`status_code` (an HTTP status), `content` (a part of the body), or both");
  CHECK(with("[{status_code: 404}]") ==
        "t.yaml:9:26: resources[0].endpoint.response_actions[0]: missing required key `action` "
        "(`ignore`)");
  CHECK(with("[{status_code: 600, action: ignore}]") ==
        "t.yaml:9:40: resources[0].endpoint.response_actions[0].status_code: expected a whole "
        "number from 100 to 599, found `600`");
  CHECK(with("[{status_code: abc, action: ignore}]") ==
        "t.yaml:9:40: resources[0].endpoint.response_actions[0].status_code: expected a whole "
        "number from 100 to 599, found `abc`");
  CHECK(contains(with("[{status_code: 429, action: ignore}]"),
                 "response_actions[0].status_code: a 429 cannot be ignored: it is flow control"));
  CHECK(contains(with("[{content: \"\", action: ignore}]"), "response_actions[0].content: "));
  CHECK(contains(with("[{status_code: 404, action: retry}]"),
                 "response_actions[0].action: `retry` is not an action restsync has; dlt also "
                 "takes a Python callable (or a list of them) here, which cannot port to "
                 "restsync: the only action is `ignore`"));
  CHECK(contains(with("[{status_code: 404, action: [my_hook]}]"),
                 "response_actions[0].action: a list is not an action restsync has; dlt also "
                 "takes a Python callable"));
  CHECK(contains(with("[my_module.set_encoding]"),
                 "response_actions[0]: expected a map `{status_code: …, content: …, action: "
                 "ignore}`, found "));
  const auto misspelt =
      errors_of(yaml(minimal) + "      response_actions: [{status: 404, action: ignore}]\n");
  REQUIRE(misspelt.size() == 2);
  CHECK(contains(misspelt[0], "response_actions[0]: matches nothing"));
  CHECK(misspelt[1] ==
        "t.yaml:9:27: unknown key `status` in `resources[0].endpoint.response_actions[0]`; the "
        "keys allowed here are status_code, content, action");
}

TEST_CASE("processing_steps: refused, saying why and what restsync offers instead") {
  auto text = yaml(minimal) + "    processing_steps:\n      - filter: keep_active\n";
  const auto message = first_error(text);
  CHECK(contains(message,
                 "t.yaml:10:7: resources[0].processing_steps: dlt's processing steps "
                 "(`filter`, `map`, `yield_map`) are Python functions and cannot port "
                 "to restsync"));
  CHECK(contains(message, "see Columns in docs/configuration.md"));
  CHECK(contains(message, "`endpoint.params` asks the API to filter"));
  CHECK(contains(message, "`write_disposition`"));
  CHECK(errors_of(text).size() == 1);  // not also an unknown key
}

namespace {

// An accounts parent and a campaigns child whose resource lines follow.
std::string with_child(const std::string& child) {
  return yaml(R"(
client:
  base_url: https://api.test
resource_defaults:
  primary_key: id
  endpoint:
    paginator: single_page
resources:
  - name: accounts
    endpoint:
      path: /v1/accounts
)") + child;
}

std::string with_columns(const std::string& lines) {
  return yaml(minimal) + "    columns:\n" + lines;
}

}  // namespace

TEST_CASE("dependent resources: dlt's {resources.<parent>.<field>} in the path and params") {
  auto cfg = load(with_child(R"(  - name: campaigns
    primary_key: [id, _accounts_id]
    include_from_parent: [name, id]
    on_parent_deleted: delete
    endpoint:
      path: /v1/accounts/{resources.accounts.id}/campaigns
      params:
        owner: "{resources.accounts.owner}-x"
        since: "{incremental.start_value}"
)"));
  const auto& c = cfg.resources[1];
  REQUIRE(c.parent);
  CHECK(c.parent->resource == "accounts");
  CHECK(c.parent->placeholders ==
        std::vector<parent_placeholder>{{"resources.accounts.id", "id"},
                                        {"resources.accounts.owner", "owner"}});
  CHECK(c.parent->fields == std::vector<std::string>{"id", "owner", "name"});
  CHECK(c.parent->include == std::vector<std::string>{"name", "id"});
  CHECK(c.parent->key_columns() == std::vector<std::string>{"_accounts_id", "_accounts_owner"});
  CHECK(c.parent->on_parent_deleted == parent_deleted_action::remove);
  CHECK(c.endpoint.path == "/v1/accounts/{resources.accounts.id}/campaigns");
  CHECK_FALSE(cfg.resources[0].parent);
  const auto plan = describe_plan(cfg);
  CHECK(contains(plan, "parent             one scan per live row of `accounts`"));
  CHECK(contains(plan, "`{resources.accounts.id}` ← accounts.id"));
  CHECK(contains(plan, "each row gets _accounts_id, _accounts_owner, _accounts_name"));
}

TEST_CASE("dependent resources: a key without the parent's column is dlt's usual form") {
  // dlt's GitHub example keys issue comments by `id` alone (from
  // resource_defaults); the run guards it (dependent_resources_test).
  auto cfg = load(with_child(R"(  - name: comments
    endpoint:
      path: /v1/accounts/{resources.accounts.id}/comments
)"));
  CHECK_FALSE(keyed_by_parent(cfg.resources[1]));
  cfg = load(with_child(R"(  - name: comments
    primary_key: [id, _accounts_id]
    endpoint:
      path: /v1/accounts/{resources.accounts.id}/comments
)"));
  CHECK(keyed_by_parent(cfg.resources[1]));
}

TEST_CASE("dependent resources: dlt's older resolve params bind a path placeholder") {
  auto cfg = load(with_child(R"(  - name: campaigns
    primary_key: [id, _accounts_id]
    endpoint:
      path: /v1/accounts/{account_id}/campaigns
      params:
        account_id: {type: resolve, resource: accounts, field: id}
        active: 1
)"));
  const auto& c = cfg.resources[1];
  REQUIRE(c.parent);
  CHECK(c.parent->placeholders == std::vector<parent_placeholder>{{"account_id", "id"}});
  // Bound in the path, not sent as a query parameter (as in dlt).
  CHECK(c.endpoint.params == query_params{{"active", "1"}});
}

TEST_CASE("dependent resources: mistakes are named where they are") {
  auto error = [](const std::string& child) { return first_error(with_child(child)); };
  CHECK(error(R"(  - name: campaigns
    primary_key: [id, _accounts_id]
    endpoint:
      path: /v1/accounts/{resources.acounts.id}/campaigns
)") == "t.yaml:14:13: resources[1].endpoint.path: `{resources.acounts.id}` names resource "
       "`acounts`, which this configuration does not have; did you mean `accounts`?");
  CHECK(contains(error(R"(  - name: campaigns
    primary_key: [id, _accounts_id]
    write_disposition: replace
    endpoint:
      path: /v1/accounts/{resources.accounts.id}/campaigns
)"),
                 "has write_disposition `replace`"));
  CHECK(contains(error(R"(  - name: campaigns
    primary_key: [id, _accounts_id]
    endpoint:
      path: /v1/accounts/{resources.accounts.id}/c/{resources.users.id}
)"),
                 "a resource has one parent (as in dlt)"));
  CHECK(contains(error(R"(  - name: campaigns
    primary_key: [id, _campaigns_id]
    endpoint:
      path: /v1/campaigns/{resources.campaigns.id}
)"),
                 "makes `campaigns` depend on itself"));
  CHECK(contains(error(R"(  - name: campaigns
    include_from_parent: [name]
    endpoint:
      path: /v1/campaigns
)"),
                 "this resource has no parent"));
  CHECK(contains(error(R"(  - name: campaigns
    primary_key: [id, _accounts_id]
    endpoint:
      path: /v1/accounts/{resources.accounts.owner.id}/campaigns
)"),
                 "names a nested field"));
  CHECK(contains(error(R"(  - name: campaigns
    primary_key: [id, _accounts_id]
    endpoint:
      path: /v1/accounts/{resources.accounts.id/campaigns
)"),
                 "has no `}`"));
  CHECK(contains(error(R"(  - name: campaigns
    primary_key: [id, _accounts_id]
    endpoint:
      path: /v1/accounts/x/campaigns
      params:
        account_id: {type: resolve, resource: accounts, field: id}
)"),
                 "resolve parameter `account_id` is not bound in the path"));
}

TEST_CASE("columns: every hint dlt has that restsync stores") {
  auto cfg =
      load(with_columns("      created_on: {data_type: timestamp, nullable: false}\n"
                        "      amount: {data_type: decimal, precision: 12, scale: 2}\n"
                        "      total: {data_type: decimal}\n"
                        "      note: {data_type: text, name: note}\n"
                        "      flags: {data_type: json}\n"
                        "      day: {data_type: date}\n"
                        "      ok: {data_type: bool}\n"
                        "      ratio: {data_type: double}\n"
                        "      count: {data_type: bigint}\n"
                        "      title: {nullable: true}\n"));
  const auto& c = cfg.resources.at(0).columns;
  REQUIRE(c.size() == 10);
  CHECK(c[0] == column_hint_config{"created_on", column_data_type::timestamp, false, 0, 0, false});
  CHECK(c[1] == column_hint_config{"amount", column_data_type::decimal, true, 12, 2, false});
  CHECK(c[9] == column_hint_config{"title", std::nullopt, true, 0, 0, false});

  const auto hints = store_hints(c);
  CHECK(hints[0] == column_hint{"created_on", column_type{pg_type::timestamptz, 0, 0}, true});
  CHECK(sql_type(*hints[1].type) == "numeric(12,2)");
  CHECK(sql_type(*hints[2].type) == "numeric");
  CHECK(sql_type(*hints[3].type) == "text");
  CHECK(sql_type(*hints[4].type) == "jsonb");
  CHECK(sql_type(*hints[5].type) == "date");
  CHECK(sql_type(*hints[6].type) == "boolean");
  CHECK(sql_type(*hints[7].type) == "double precision");
  CHECK(sql_type(*hints[8].type) == "bigint");
  CHECK_FALSE(hints[9].type);

  const auto plan = describe_plan(cfg);
  CHECK(contains(plan, "created_on timestamp (timestamptz), not null;"));
  CHECK(contains(plan, "amount decimal (numeric(12,2));"));
  CHECK(contains(plan, "total decimal (numeric);"));
  CHECK(contains(plan, "title (type from the values);"));
  CHECK(contains(plan, "a value that does not fit goes to <column>__v_<type>"));
}

TEST_CASE("columns: mistakes are named where they are") {
  CHECK(first_error(with_columns("      createdOn: {data_type: timestamp}\n")) ==
        "t.yaml:10:7: resources[0].columns.createdOn: `createdOn` is not a column name restsync "
        "makes: the naming rules (snake_case, at most 63 bytes) turn a field `createdOn` into "
        "the column `created_on`; name the column as the table has it: `created_on`");
  CHECK(contains(first_error(with_columns("      created_on: {data_type: timestmap}\n")),
                 "t.yaml:10:31: resources[0].columns.created_on.data_type: `timestmap` is not "
                 "one of text, bigint, double, bool, timestamp, date, decimal, json; did you "
                 "mean `timestamp`?"));
  CHECK(contains(first_error(with_columns("      blob: {data_type: binary}\n")),
                 "dlt's data_type `binary` is not one restsync stores; use `text`"));
  CHECK(contains(first_error(with_columns("      n: {data_type: bigint, precision: 10}\n")),
                 "t.yaml:10:41: resources[0].columns.n.precision: `precision` applies to "
                 "data_type `decimal` only"));
  CHECK(contains(first_error(with_columns("      n: {data_type: decimal, precision: 4, scale: "
                                          "6}\n")),
                 "scale 6 is more than precision 4"));
  CHECK(contains(first_error(with_columns("      n: {data_type: decimal, scale: 2}\n")),
                 "`scale` needs `precision` beside it"));
  CHECK(contains(first_error(with_columns("      n: {data_type: text, partition: true}\n")),
                 "t.yaml:10:28: resources[0].columns.n.partition: dlt's column hint "
                 "`partition` has no meaning in restsync"));
  CHECK(contains(first_error(with_columns("      n: {data_type: text, nulable: false}\n")),
                 "unknown key `nulable` in `resources[0].columns.n`; did you mean `nullable`?"));
  CHECK(contains(first_error(with_columns("      _rs_synced_at: {data_type: text}\n")),
                 "is a name no data column gets"));
  CHECK(contains(first_error(with_columns("      a__v_text: {data_type: text}\n")),
                 "turn a field `a__v_text` into the column `a_v_text`"));
  CHECK(contains(first_error(with_columns("      n: {data_type: text, name: m}\n")),
                 "`m` differs from the column's key `n`"));
  CHECK(contains(first_error(with_columns("      n: timestamp\n")), "expected a map of hints"));
}

TEST_CASE("columns: primary_key hints and the resource's primary_key") {
  SUBCASE("without a primary_key, the hinted columns are the key, in order") {
    std::string text = yaml(minimal);
    text.replace(text.find("    primary_key: id\n"), 20, "");
    auto cfg = load(text +
                    "    columns:\n      uid: {primary_key: true}\n      region: "
                    "{data_type: text, primary_key: true}\n");
    CHECK(cfg.resources[0].primary_key == std::vector<std::string>{"uid", "region"});
  }
  SUBCASE("a hint on a column the key names agrees with it") {
    auto cfg = load(with_columns("      id: {data_type: bigint, primary_key: true}\n"));
    CHECK(cfg.resources[0].primary_key == std::vector<std::string>{"id"});
  }
  SUBCASE("a hinted key column outside the resource's primary_key is refused, not merged") {
    CHECK(contains(first_error(with_columns("      uid: {primary_key: true}\n")),
                   "t.yaml:10:26: resources[0].columns.uid.primary_key: column `uid` is hinted "
                   "`primary_key: true`, but the resource's primary_key (here or from "
                   "resource_defaults) is [id]; restsync does not merge the two"));
  }
  SUBCASE("primary_key: false on a key column contradicts it") {
    CHECK(contains(first_error(with_columns("      id: {primary_key: false}\n")),
                   "`primary_key: false` on column `id` contradicts the resource's primary_key"));
  }
  SUBCASE("a key is never nullable") {
    CHECK(contains(first_error(with_columns("      id: {primary_key: true, nullable: true}\n")),
                   "a primary key column is never null"));
  }
}

TEST_CASE("columns in resource_defaults merge column by column; a resource's null removes one") {
  const std::string text = R"(client:
  base_url: https://api.test
resource_defaults:
  primary_key: id
  columns:
    created_on: {data_type: timestamp}
    updated_at: {data_type: timestamp}
  endpoint: {paginator: single_page}
resources:
  - name: users
    columns:
      created_on: {nullable: false}
      updated_at: ~
    endpoint: /v1/users
  - name: labels
    endpoint: /v1/labels
)";
  auto cfg = load(text);
  const auto& users = cfg.resources.at(0).columns;
  REQUIRE(users.size() == 1);
  CHECK(users[0] ==
        column_hint_config{"created_on", column_data_type::timestamp, false, 0, 0, false});
  CHECK(cfg.resources.at(1).columns.size() == 2);
}

TEST_CASE("compat: dlt's documented examples load, and their plans name dlt's requests") {
  scoped_env token("GITHUB_TOKEN", "ghp_example-token-0123456789");
  const auto dir = source_dir() / "tests" / "compat";
  auto plan_of = [&](const std::string& file) { return describe_plan(load_config(dir / file)); };
  auto github = plan_of("github_issue_comments.yaml");
  CHECK(contains(github,
                 "GET https://api.github.com/repos/dlt-hub/dlt/issues?sort=updated&direction=desc&"
                 "state=open&per_page=100&since=2024-01-25T11%3A21%3A28Z"));
  CHECK(contains(github,
                 "GET https://api.github.com/repos/dlt-hub/dlt/issues/"
                 "{resources.issues.number}/comments?per_page=100"));
  CHECK(contains(github, "each row gets _issues_number, _issues_id"));
  auto pokemon = plan_of("pokemon_details.yaml");
  CHECK(contains(pokemon, "GET https://pokeapi.apps.dlthub.com/api/v2/pokemon?limit=2"));
  CHECK(contains(pokemon, "GET https://pokeapi.apps.dlthub.com/api/v2/pokemon/{name}?limit=1000"));
  CHECK(contains(pokemon, "`{name}` ← pokemon_list.name"));
  auto params = plan_of("posts_comments_params.yaml");
  CHECK(contains(params, "GET https://api.example.com/comments?post_id={resources.posts.id}"));
  auto json = plan_of("posts_search_json.yaml");
  CHECK(contains(json, "POST https://api.example.com/search"));
  CHECK(contains(
      json,
      R"(body               {"filters":{"id":"{resources.posts.id}"},"order":"desc","limit":5})"));
}

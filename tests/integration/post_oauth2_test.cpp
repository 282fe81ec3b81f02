// POST bodies with body paging, and OAuth2 client credentials (issue 13,
// items 4 and 5), against the emulator's search endpoint and token
// endpoint and a real PostgreSQL.
#include "sync_harness.hpp"

using namespace rs_test;

namespace {

const std::string client_secret = "cs-9b1f27d4e0a3c6";

bool has(const std::string& log, const std::string& text) {
  return log.find(text) != std::string::npos;
}

// The API requests the emulator answered on path (its /__stats count).
long long requests_to(const emulator& emu, const std::string& path) {
  const auto stats = emu.stats();
  const auto at = stats.find("\"" + path + "\":");
  if (at == std::string::npos) return 0;
  return std::stoll(stats.substr(at + path.size() + 3));
}

long long answered(const emulator& emu, int status) {
  const auto stats = emu.stats();
  const auto at = stats.find("\"" + std::to_string(status) + "\":");
  if (at == std::string::npos) return 0;
  return std::stoll(stats.substr(at + 6));
}

// A resource read through POST /v1/accounts/current/search/<name>.
std::string search_resource(const std::string& name, const std::string& json,
                            const std::string& paginator) {
  return "  - name: " + name +
         "\n"
         "    primary_key: id\n"
         "    endpoint:\n"
         "      path: /v1/accounts/current/search/" +
         name +
         "\n"
         "      method: POST\n"
         "      json: " +
         json +
         "\n"
         "      data_selector: _data\n"
         "      paginator: " +
         paginator + "\n";
}

std::string with_client(const std::string& client, int max_in_flight,
                        const std::string& resources) {
  return client + "  max_in_flight: " + std::to_string(max_in_flight) +
         "\n"
         "  rate_limit: {requests_per_second: 0}\n"
         "resources:\n" +
         resources;
}

const std::string offset_body =
    "{type: offset, limit: 50, offset_body_path: page.offset, limit_body_path: page.limit}";

// The client section for an emulator with OAuth2 on.
std::string oauth_client(const std::string& extra_auth = {}) {
  return "client:\n"
         "  base_url: ${env:ANALYTICS_BASE_URL}\n"
         "  auth:\n"
         "    type: oauth2_client_credentials\n"
         "    access_token_url: ${env:ANALYTICS_BASE_URL}/oauth/token\n"
         "    client_id: restsync-client\n"
         "    client_secret: ${env:CLIENT_SECRET}\n"
         "    access_token_request_data: {scope: analytics.read}\n" +
         extra_auth;
}

emulator oauth_emulator() {
  return emulator({"--oauth-client-id", "restsync-client", "--oauth-client-secret", client_secret,
                   "--oauth-scope", "analytics.read"});
}

std::string users_by_offset(int limit) {
  return "  - name: users\n"
         "    primary_key: id\n"
         "    endpoint:\n"
         "      path: /v1/accounts/current/users\n"
         "      data_selector: _data\n"
         "      paginator: {type: offset, limit: " +
         std::to_string(limit) + "}\n";
}

sync_result oauth_sync(const std::string& yaml, const emulator& emu, const scratch_database& db,
                       const std::string& secret = client_secret) {
  return run_sync(yaml, emu, db, {}, {{"CLIENT_SECRET", secret}});
}

}  // namespace

TEST_CASE("a POST resource with offset paging in the body loads the truth, a request a page") {
  emulator emu;
  scratch_database db;
  // One request at a time: 80 campaigns at 50 a page are exactly 2 requests
  // (the short second page after a full one ends the scan).
  auto r =
      run_sync(with_client(emulator_client_yaml(), 1,
                           search_resource("campaigns", "{query: {status: any}}", offset_body)),
               emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db, {"campaigns"});
  CHECK(requests_to(emu, "/v1/accounts/current/search/campaigns") == 2);
  CHECK(db.scalar("SELECT requests FROM analytics._rs_runs") == "2");
  CHECK(requests_to(emu, "/v1/accounts/current/campaigns") == 0);
}

TEST_CASE("the concurrent offset window sends each position in its own body") {
  emulator emu({"--records", "users=430"});
  scratch_database db;
  auto r = run_sync(
      with_client(emulator_client_yaml(), 4, search_resource("users", "{query: all}", offset_body)),
      emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db, {"users"});
  CHECK(db.scalar("SELECT records FROM analytics._rs_runs") == "430");
}

TEST_CASE("page_number and cursor paging in the body") {
  emulator emu;
  scratch_database db;
  const std::string resources =
      // 75 users, 20 a page: pages 1 to 4, then the empty page 5.
      search_resource("users", "{query: all, page: {size: 20}}",
                      "{type: page_number, base_page: 1, page_body_path: page.number}") +
      // 55 labels, 20 a page: the third has no next cursor.
      search_resource("labels", "{query: all, page: {limit: 20}}",
                      "{type: cursor, cursor_path: next_cursor, cursor_body_path: cursor}");
  auto r = run_sync(with_client(emulator_client_yaml(), 4, resources), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db, {"users", "labels"});
  CHECK(requests_to(emu, "/v1/accounts/current/search/users") == 5);
  CHECK(requests_to(emu, "/v1/accounts/current/search/labels") == 3);
}

TEST_CASE("OAuth2: one token fetched for all concurrent requests, then the truth loaded") {
  auto emu = oauth_emulator();
  scratch_database db;
  const std::string resources =
      users_by_offset(50) + search_resource("campaigns", "{query: all}", offset_body);
  auto r = oauth_sync(with_client(oauth_client(), 4, resources), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db, {"users", "campaigns"});
  CHECK(requests_to(emu, "/oauth/token") == 1);
  CHECK(answered(emu, 401) == 0);
  CHECK(has(r.log, "event=token_fetched"));
  CHECK_FALSE(has(r.log, client_secret));
  CHECK_FALSE(has(r.log, "tok-"));  // the token itself is never logged
}

TEST_CASE("OAuth2: a token that stops working mid-run is renewed after its 401") {
  auto emu = oauth_emulator();
  scratch_database db;
  // Each token authorises 3 API requests. One request at a time, 75 users at
  // 10 a page are 8 pages: tokens for 3 + 3 + 2 of them, two 401s between.
  REQUIRE(http_request(emu.ep(), "POST", "/__config", {}, R"({"token_max_uses":3})").status == 200);
  auto r = oauth_sync(with_client(oauth_client(), 1, users_by_offset(10)), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db, {"users"});
  CHECK(requests_to(emu, "/oauth/token") == 3);
  CHECK(answered(emu, 401) == 2);
  CHECK(has(r.log, "event=token_rejected resource=users"));
  CHECK(db.scalar("SELECT status || '/' || requests FROM analytics._rs_runs") == "succeeded/10");
}

TEST_CASE("OAuth2: a token that expires mid-run is renewed before it expires") {
  auto emu = oauth_emulator();
  scratch_database db;
  // Tokens live 2 s; 2 requests a second, one after the other, make the 8
  // pages take at least 3.5 s, so one token cannot serve the whole run. It
  // is renewed 200 ms before it expires, so no request meets a 401.
  REQUIRE(http_request(emu.ep(), "POST", "/__config", {}, R"({"token_expires_in":2})").status ==
          200);
  std::string yaml = with_client(oauth_client(), 1, users_by_offset(10));
  yaml.replace(yaml.find("requests_per_second: 0}"), 23, "requests_per_second: 2, burst: 1}");
  auto r = oauth_sync(yaml, emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db, {"users"});
  CHECK(requests_to(emu, "/oauth/token") >= 2);
  CHECK(answered(emu, 401) == 0);
  CHECK(db.scalar("SELECT status FROM analytics._rs_runs") == "succeeded");
}

TEST_CASE("OAuth2: a 401 with a newly fetched token fails the run once, without a loop") {
  auto emu = oauth_emulator();
  scratch_database db;
  // Every token is expired as it is issued.
  REQUIRE(http_request(emu.ep(), "POST", "/__config", {}, R"({"token_expires_in":0})").status ==
          200);
  auto r = oauth_sync(with_client(oauth_client(), 1, users_by_offset(50)), emu, db);
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(requests_to(emu, "/oauth/token") == 2);
  CHECK(requests_to(emu, "/v1/accounts/current/users") == 2);
  CHECK(has(r.log, "with an OAuth2 token fetched after the 401 before"));
  CHECK(db.scalar("SELECT status FROM analytics._rs_runs") == "failed");
}

TEST_CASE("OAuth2: a wrong client secret fails clearly, and the secret shows nowhere") {
  auto emu = oauth_emulator();
  scratch_database db;
  const std::string wrong = "cs-wrong-5e8d1a7f02";
  auto r = oauth_sync(with_client(oauth_client(), 4, users_by_offset(50)), emu, db, wrong);
  INFO(r.log);
  CHECK(r.status == 1);
  const std::string url = emu.base_url() + "/oauth/token";
  CHECK(has(r.log, "fetching the OAuth2 token from " + url + " failed: HTTP 401"));
  CHECK(has(r.log, "invalid_client"));
  // A 401 is not retried, and the waiting requests share the one answer.
  CHECK(requests_to(emu, "/oauth/token") == 1);
  CHECK(requests_to(emu, "/v1/accounts/current/users") == 0);
  const std::string error = db.scalar("SELECT error FROM analytics._rs_runs");
  INFO(error);
  CHECK(has(error, "fetching the OAuth2 token from " + url + " failed"));
  for (const auto& text : {r.log, error}) {
    CHECK_FALSE(has(text, wrong));
    CHECK_FALSE(has(text, client_secret));
  }
}

// OAuth2 client credentials without I/O: the configuration, the form posted
// to the token endpoint, its answer read, and when a cached token is used,
// renewed or dropped.
#include "restsync/http/oauth.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config_helpers.hpp"
#include "restsync/config/load.hpp"
#include "restsync/plan/describe.hpp"

using namespace restsync;
using namespace config_test;
using namespace std::chrono_literals;

namespace {

std::string oauth_yaml(const std::string& auth_lines) {
  return "client:\n"
         "  base_url: https://api.test\n"
         "  auth:\n"
         "    type: oauth2_client_credentials\n" +
         auth_lines +
         "resources:\n"
         "  - name: users\n"
         "    primary_key: id\n"
         "    endpoint: {path: /v1/users, paginator: single_page}\n";
}

const std::string full =
    "    access_token_url: https://auth.test/oauth/token?tenant=7\n"
    "    client_id: restsync-client\n"
    "    client_secret: s3cr3t-value-42\n"
    "    access_token_request_data: {scope: read write, audience: https://api.test, "
    "assertion_token: assertion-secret-9}\n"
    "    default_token_expiration: 30m\n";

}  // namespace

TEST_CASE("oauth2_client_credentials: dlt's keys, secrets registered and masked") {
  auto cfg = load(oauth_yaml(full));
  const auto& a = cfg.client.auth;
  CHECK(a.type == auth_type::oauth2_client_credentials);
  CHECK(a.access_token_url == "https://auth.test/oauth/token?tenant=7");
  CHECK(a.client_id == "restsync-client");
  CHECK(a.client_secret == "s3cr3t-value-42");
  CHECK(a.default_token_expiration == 30min);
  REQUIRE(a.access_token_request_data.size() == 3);
  CHECK(cfg.secrets.contains_secret("s3cr3t-value-42"));
  CHECK(cfg.secrets.contains_secret("restsync-client"));
  // A field named like a credential is a secret, as a header would be.
  CHECK(cfg.secrets.contains_secret("assertion-secret-9"));
  CHECK_FALSE(cfg.secrets.contains_secret("read write"));

  CHECK(token_request_form(a) ==
        "client_id=restsync-client&client_secret=s3cr3t-value-42&grant_type=client_credentials&"
        "scope=read%20write&audience=https%3A%2F%2Fapi.test&assertion_token=assertion-secret-9");
  CHECK(shown_token_url(a.access_token_url) == "https://auth.test/oauth/token");

  auto plan = describe_plan(cfg);
  CHECK(plan.find("s3cr3t-value-42") == std::string::npos);
  CHECK(plan.find("assertion-secret-9") == std::string::npos);
  CHECK(plan.find("restsync-client") == std::string::npos);
  CHECK(plan.find("oauth2_client_credentials: a token from POST "
                  "https://auth.test/oauth/token?tenant=7 (client_id ***, client_secret ***, "
                  "scope=read write, audience=https://api.test, assertion_token=***), sent as a "
                  "bearer token; renewed before it expires (expires_in, else 30m: renewed 1m "
                  "before) and after a 401") != std::string::npos);
}

TEST_CASE("access_token_request_data may replace dlt's own fields, as in dlt") {
  auto cfg =
      load(oauth_yaml("    access_token_url: https://auth.test/token\n"
                      "    client_id: id-123456\n    client_secret: secret-123456\n"
                      "    access_token_request_data: {grant_type: urn:custom}\n"));
  CHECK(token_request_form(cfg.client.auth) ==
        "client_id=id-123456&client_secret=secret-123456&grant_type=urn%3Acustom");
  CHECK(cfg.client.auth.default_token_expiration == 3600s);
}

TEST_CASE("oauth2 configuration mistakes name the key") {
  CHECK(errors_of(oauth_yaml("    client_id: a-123456\n    client_secret: b-123456\n")) ==
        std::vector<std::string>{
            "t.yaml:4:5: client.auth: missing required key `access_token_url` (the token "
            "endpoint's http(s) URL, such as `https://auth.example.com/oauth/token`)"});
  CHECK(errors_of(oauth_yaml("    access_token_url: auth.test/token\n"
                             "    client_id: a-123456\n    client_secret: b-123456\n"))
            .front()
            .starts_with("t.yaml:5:23: client.auth.access_token_url: `auth.test/token`: "));
  CHECK(errors_of(oauth_yaml("    access_token_url: https://auth.test/t\n"
                             "    client_id: a-123456\n    client_secret: b-123456\n"
                             "    access_token: given\n")) ==
        std::vector<std::string>{
            "t.yaml:8:19: client.auth.access_token: restsync fetches the token from "
            "`access_token_url` itself and renews it (dlt, too, replaces a given token at the "
            "first request); remove `access_token`"});
  CHECK(errors_of(oauth_yaml("    access_token_url: https://auth.test/t\n"
                             "    client_id: a-123456\n    client_secret: b-123456\n"
                             "    default_token_expiration: 0\n"))
            .front()
            .find("default_token_expiration: must be longer than zero") != std::string::npos);
  CHECK(errors_of(oauth_yaml("    access_token_url: https://auth.test/t\n"
                             "    client_id: a-123456\n    client_secret: b-123456\n"
                             "    token_url: x\n"))
            .front()
            .find("unknown key `token_url`") != std::string::npos);
}

TEST_CASE("the token endpoint's answer") {
  auto ok = std::get<token_response>(
      read_token_response(R"({"access_token":"abc","token_type":"Bearer","expires_in":120})"));
  CHECK(ok.access_token == "abc");
  CHECK(ok.expires_in == 120s);
  auto text =
      std::get<token_response>(read_token_response(R"({"access_token":"abc","expires_in":"90"})"));
  CHECK(text.expires_in == 90s);
  CHECK_FALSE(std::get<token_response>(read_token_response(R"({"access_token":"abc"})"))
                  .expires_in.has_value());
  CHECK(std::get<std::string>(read_token_response("<html>")) == "the answer is not a JSON object");
  CHECK(std::get<std::string>(read_token_response(R"({"token":"abc"})")) ==
        "the answer has no `access_token` string");
  CHECK(std::get<std::string>(read_token_response(R"({"access_token":"abc","expires_in":-5})")) ==
        "`expires_in` is not a number of seconds");
}

TEST_CASE("the cached token: used until its renewal time, dropped by a 401") {
  CHECK(renewal_margin(3600s) == 60s);
  CHECK(renewal_margin(100s) == 10s);
  CHECK(renewal_margin(0s) == 0s);
  token_cache cache(3600s);
  const auto t0 = token_cache::clock::time_point{} + 1000s;
  CHECK_FALSE(cache.usable(t0));
  cache.store({"first", 100s}, t0);
  CHECK(cache.usable(t0 + 89s));
  CHECK_FALSE(cache.usable(t0 + 90s));  // renewed 10 s before it expires
  cache.store({"second", std::nullopt}, t0 + 90s);
  CHECK(cache.lifetime() == 3600s);
  CHECK(cache.usable(t0 + 90s + 3539s));
  CHECK_FALSE(cache.usable(t0 + 90s + 3540s));
  // A 401 for a token replaced since changes nothing; for the cached one, it drops it.
  cache.reject("first");
  CHECK(cache.usable(t0 + 100s));
  cache.reject("second");
  CHECK_FALSE(cache.usable(t0 + 100s));
  CHECK(cache.token() == "second");
}

#include "restsync/http/url.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using restsync::parse_url;

TEST_CASE("parse_url: scheme, host, default and explicit ports, target") {
  auto u = parse_url("https://api.example.com");
  CHECK(u.scheme == "https");
  CHECK(u.host == "api.example.com");
  CHECK(u.port == 443);
  CHECK(u.target == "/");
  CHECK(u.tls());
  CHECK(u.host_header() == "api.example.com");
  CHECK(u.origin() == "https://api.example.com:443");

  u = parse_url("HTTP://127.0.0.1:8080/api/v2?x=1#frag");
  CHECK(u.scheme == "http");
  CHECK_FALSE(u.tls());
  CHECK(u.host == "127.0.0.1");
  CHECK(u.port == 8080);
  CHECK(u.target == "/api/v2?x=1");
  CHECK(u.host_header() == "127.0.0.1:8080");

  u = parse_url("http://[::1]:9000/p");
  CHECK(u.host == "::1");
  CHECK(u.port == 9000);
  CHECK(u.host_header() == "[::1]:9000");
}

TEST_CASE("parse_url refuses what it cannot use, saying why") {
  CHECK_THROWS_WITH_AS(parse_url("api.example.com/v1"), doctest::Contains("absolute URL"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(parse_url("ftp://x"), doctest::Contains("'ftp'"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(parse_url("https://user:pw@host/"), doctest::Contains("credentials"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(parse_url("https://host:99999/"), doctest::Contains("bad port"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(parse_url("https://host:12ab/"), doctest::Contains("bad port"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(parse_url("https:///path"), doctest::Contains("no host"),
                       std::invalid_argument);
  CHECK_THROWS_AS(parse_url("https://[::1/"), std::invalid_argument);
}

TEST_CASE("percent_encode keeps unreserved characters only") {
  CHECK(restsync::percent_encode("abcXYZ019-._~") == "abcXYZ019-._~");
  CHECK(restsync::percent_encode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9");
  CHECK(restsync::percent_encode("") == "");
}

TEST_CASE("join_target joins with one slash and appends encoded params") {
  CHECK(restsync::join_target("/", "/v1/accounts", {}) == "/v1/accounts");
  CHECK(restsync::join_target("/api/", "v1/x", {{"limit", "50"}, {"offset", "0"}}) ==
        "/api/v1/x?limit=50&offset=0");
  CHECK(restsync::join_target("/api?ignored=1", "/x", {{"q", "a b"}}) == "/api/x?q=a%20b");
  CHECK(restsync::append_query("/x?a=1", {{"b", "2"}}) == "/x?a=1&b=2");
  CHECK(restsync::append_query("/x", {}) == "/x");
}

TEST_CASE("find_link reads RFC 8288 Link headers") {
  using restsync::find_link;
  const std::string h =
      "<https://api.x/items?page=3>; rel=\"next\", <https://api.x/items?page=9>; rel=\"last\"";
  CHECK(find_link(h, "next") == "https://api.x/items?page=3");
  CHECK(find_link(h, "last") == "https://api.x/items?page=9");
  CHECK_FALSE(find_link(h, "prev").has_value());
  CHECK(find_link("</p2>; rel=next", "next") == "/p2");
  CHECK(find_link("</p2>; title=\"a, b\"; rel=\"prefetch NEXT\"", "next") == "/p2");
  CHECK_FALSE(find_link("", "next").has_value());
  CHECK_FALSE(find_link("<broken; rel=next", "next").has_value());
}

TEST_CASE("redact_query: a credential's value never reaches a message") {
  using restsync::redact_query;
  const std::vector<std::string> names = {"api_key", "x token"};
  CHECK(redact_query("/v1/x?api_key=s3cr3t&limit=50&offset=0", names) ==
        "/v1/x?api_key=***&limit=50&offset=0");
  CHECK(redact_query("/v1/x?limit=50&api_key=s3cr3t", names) == "/v1/x?limit=50&api_key=***");
  CHECK(redact_query("/v1/x?x%20token=a%2Fb&my_api_key=kept", names) ==
        "/v1/x?x%20token=***&my_api_key=kept");
  CHECK(redact_query("/v1/x?api_key=a&api_key=b", names) == "/v1/x?api_key=***&api_key=***");
  CHECK(redact_query("/v1/x", names) == "/v1/x");
  CHECK(redact_query("/v1/x?limit=5", {}) == "/v1/x?limit=5");
  CHECK(redact_query("/v1/x?&&api_key=z&", names) == "/v1/x?&&api_key=***&");
}

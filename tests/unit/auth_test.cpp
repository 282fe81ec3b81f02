#include "restsync/http/auth.hpp"

#include <doctest/doctest.h>

using namespace restsync;

TEST_CASE("base64 per RFC 4648 test vectors") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string("\xff\x00\x10", 3)) == "/wAQ");
}

TEST_CASE("each auth type puts its secret where the API expects it") {
  auth_config a;
  CHECK(credentials_for(a).headers.empty());

  a.type = auth_type::bearer;
  a.token = "t0k";
  auto c = credentials_for(a);
  REQUIRE(c.headers.size() == 1);
  CHECK(c.headers[0] == std::pair<std::string, std::string>{"Authorization", "Bearer t0k"});

  a.type = auth_type::http_basic;
  a.username = "Aladdin";
  a.password = "open sesame";
  c = credentials_for(a);
  CHECK(c.headers[0].second == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");

  a.type = auth_type::api_key;
  a.name = "api_key";
  a.api_key = "k";
  c = credentials_for(a);
  CHECK(c.headers[0] == std::pair<std::string, std::string>{"api_key", "k"});
  CHECK(c.params.empty());

  a.location = api_key_location::query;
  c = credentials_for(a);
  CHECK(c.headers.empty());
  REQUIRE(c.params.size() == 1);
  CHECK(c.params[0] == std::pair<std::string, std::string>{"api_key", "k"});
}

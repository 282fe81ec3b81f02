#include <doctest/doctest.h>

#include "restsync/config/secrets.hpp"

using namespace restsync;

TEST_CASE("a short secret is masked only where it is the whole text, a longer one everywhere") {
  secret_set s;
  s.add("a");
  s.add("long-secret-1");
  CHECK(s.mask("a") == "***");
  CHECK(s.mask("resources[0].max_age: expected a duration") ==
        "resources[0].max_age: expected a duration");
  CHECK(s.mask("GET /x?key=long-secret-1 failed: max_age") == "GET /x?key=*** failed: max_age");
}

TEST_CASE("the threshold is short_secret_length") {
  const std::string at(short_secret_length, 'q'), below(short_secret_length - 1, 'z');
  secret_set s;
  s.add(at);
  s.add(below);
  CHECK(s.mask("x" + at + "x") == "x***x");
  CHECK(s.mask("x" + below + "x") == "x" + below + "x");
  CHECK(s.mask(below) == "***");
  CHECK(s.count_shorter_than(short_secret_length) == 1);
}

#include "restsync/config/placeholders.hpp"

#include <doctest/doctest.h>

#include <map>

using namespace restsync;

TEST_CASE("placeholders: names in order, literal braces doubled, mistakes named") {
  using names = std::vector<std::string>;
  CHECK(std::get<names>(placeholder_names("/a/{resources.x.id}/b/{y}")) ==
        names{"resources.x.id", "y"});
  CHECK(std::get<names>(placeholder_names("{{literal}} {a}")) == names{"a"});
  CHECK(std::get<std::string>(placeholder_names("/a/{x")).find("has no `}`") != std::string::npos);
  CHECK(std::get<std::string>(placeholder_names("/a/x}")).find("closes nothing") !=
        std::string::npos);
  CHECK(std::get<std::string>(placeholder_names("{}")).find("holds no placeholder name") !=
        std::string::npos);
  CHECK(std::get<std::string>(placeholder_names("{a:>3}")).find("plain") != std::string::npos);
}

TEST_CASE("placeholders: filled from values; a value missing gives nothing") {
  std::map<std::string, std::string, std::less<>> values{{"a", "1"}, {"b", "x/y"}};
  auto value = [&](std::string_view n) -> std::optional<std::string> {
    auto it = values.find(n);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
  CHECK(fill_placeholders("/v/{a}/{{b}}/{b}", value) == "/v/1/{b}/x/y");
  CHECK_FALSE(fill_placeholders("/v/{c}", value));
}

TEST_CASE("path_segment: an id stays one segment") {
  CHECK(path_segment("17") == "17");
  CHECK(path_segment("a/b?c d%") == "a%2Fb%3Fc%20d%25");
  CHECK(path_segment("é") == "%C3%A9");
}

#include "restsync/paging/json_path.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using restsync::find_path;

TEST_CASE("find_path walks object keys and tells a blocked path from a missing one") {
  rapidjson::Document d;
  d.Parse(R"({"a":{"b":{"c":5},"n":null,"x":3},"top":"t"})");
  using keys = std::vector<std::string>;
  bool blocked = true;
  CHECK(find_path(d, keys{}, &blocked) == &d);
  CHECK_FALSE(blocked);
  const auto* c = find_path(d, keys{"a", "b", "c"}, &blocked);
  REQUIRE(c);
  CHECK(c->GetInt() == 5);
  CHECK(find_path(d, keys{"top"})->GetString() == std::string("t"));

  CHECK(find_path(d, keys{"a", "missing"}, &blocked) == nullptr);
  CHECK_FALSE(blocked);
  // Through null: missing, not blocked.
  CHECK(find_path(d, keys{"a", "n", "c"}, &blocked) == nullptr);
  CHECK_FALSE(blocked);
  // Through a number: blocked.
  CHECK(find_path(d, keys{"a", "x", "c"}, &blocked) == nullptr);
  CHECK(blocked);
  // A null at the end is the value found.
  REQUIRE(find_path(d, keys{"a", "n"}));
  CHECK(find_path(d, keys{"a", "n"})->IsNull());
}

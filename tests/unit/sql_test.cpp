#include "restsync/store/sql.hpp"

#include <doctest/doctest.h>

#include <string>

using restsync::sql::binary_text_array;

namespace {

std::string be32(unsigned v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

}  // namespace

TEST_CASE("binary_text_array: array_recv's format, one dimension of text") {
  binary_text_array a;
  a.append(std::string_view("ab"));
  a.append(std::nullopt);
  a.append(std::string_view(""));
  a.append(std::string_view("{\"x\",\\}"));
  const std::string expected = be32(1) + be32(1) + be32(25) + be32(4) + be32(1) +  // header
                               be32(2) + "ab" + be32(0xffffffff) + be32(0) + be32(7) + "{\"x\",\\}";
  CHECK(a.finish() == expected);

  a.clear();
  a.append(std::string_view("z"));
  CHECK(a.finish() == be32(1) + be32(0) + be32(25) + be32(1) + be32(1) + be32(1) + "z");

  a.clear();
  CHECK(a.finish() == be32(0) + be32(0) + be32(25));
}

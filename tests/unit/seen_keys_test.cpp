#include "restsync/store/seen_keys.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using restsync::db::key_hash;
using restsync::db::seen_keys;

namespace {

void add(seen_keys& s, const std::vector<std::string>& keys) {
  std::vector<std::uint64_t> h;
  for (const auto& k : keys) h.push_back(s.hash(k));
  s.add(h);
}

}  // namespace

TEST_CASE("key_hash: depends on the seed and on every byte") {
  CHECK(key_hash(1, "[1]") == key_hash(1, "[1]"));
  CHECK(key_hash(1, "[1]") != key_hash(2, "[1]"));
  CHECK(key_hash(1, "[1]") != key_hash(1, "[2]"));
  CHECK(key_hash(1, "[12]") != key_hash(1, "[21]"));
  CHECK(key_hash(0, "") != key_hash(0, std::string(1, '\0')));
  // FNV-1a with the seed folded into its offset basis, then splitmix64's finish.
  std::uint64_t h = 14695981039346656037ull;
  h ^= 'a';
  h *= 1099511628211ull;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  CHECK(key_hash(0, "a") == h);
}

TEST_CASE("seen_keys: only ended passes count as seen") {
  seen_keys s(42);
  add(s, {"[1]", "[2]"});
  CHECK_FALSE(s.saw("[1]"));
  CHECK(s.end_pass() == 0);
  CHECK(s.saw("[1]"));
  CHECK(s.saw("[2]"));
  CHECK_FALSE(s.saw("[3]"));
  CHECK(s.size() == 2);
}

TEST_CASE("seen_keys: end_pass counts the keys a pass met twice") {
  seen_keys s(7);
  add(s, {"[1]", "[2]", "[1]", "[3]", "[1]", "[2]"});
  CHECK(s.end_pass() == 3);
  CHECK(s.size() == 3);
  // A key seen by an earlier pass is no repeat of the next one.
  add(s, {"[1]", "[4]"});
  CHECK(s.end_pass() == 0);
  CHECK(s.size() == 4);
  for (auto k : {"[1]", "[2]", "[3]", "[4]"}) CHECK(s.saw(k));
  CHECK_FALSE(s.saw("[5]"));
}

TEST_CASE("seen_keys: the repeat digest names which keys a pass met twice, in any order") {
  seen_keys s(11);
  add(s, {"[1]", "[2]", "[1]", "[3]"});
  CHECK(s.end_pass() == 1);
  const auto one = s.repeat_digest();
  CHECK(one == s.hash("[1]"));
  // The same key twice again, the pages in another order: the same digest.
  add(s, {"[3]", "[1]", "[2]", "[1]"});
  CHECK(s.end_pass() == 1);
  CHECK(s.repeat_digest() == one);
  // As many repeats of another key: another digest.
  add(s, {"[1]", "[2]", "[2]", "[3]"});
  CHECK(s.end_pass() == 1);
  CHECK(s.repeat_digest() != one);
  // A key three times counts twice.
  add(s, {"[1]", "[1]", "[1]"});
  CHECK(s.end_pass() == 2);
  CHECK(s.repeat_digest() == s.hash("[1]") * 2);
  // None: 0.
  add(s, {"[1]", "[2]"});
  CHECK(s.end_pass() == 0);
  CHECK(s.repeat_digest() == 0);
}

TEST_CASE("seen_keys: passes merge into one sorted set") {
  seen_keys s(3);
  std::vector<std::string> first, second;
  for (int i = 0; i < 1000; ++i) (i % 2 ? first : second).push_back("[" + std::to_string(i) + "]");
  add(s, first);
  CHECK(s.end_pass() == 0);
  add(s, second);
  add(s, {"[1]", "[3]"});  // seen before: merged once
  CHECK(s.end_pass() == 0);
  CHECK(s.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(s.saw("[" + std::to_string(i) + "]"));
  CHECK_FALSE(s.saw("[1000]"));
  // An empty pass changes nothing.
  CHECK(s.end_pass() == 0);
  CHECK(s.size() == 1000);
}

TEST_CASE("seen_keys: the seed decides the hashes") {
  seen_keys a(1), b(2);
  CHECK(a.hash("[1]") != b.hash("[1]"));
  add(a, {"[1]"});
  a.end_pass();
  CHECK(a.saw("[1]"));
}

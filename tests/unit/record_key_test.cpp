#include "restsync/store/record_key.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <set>
#include <string>
#include <vector>

using restsync::page;
using restsync::page_error;
using restsync::page_spec;
using restsync::pg_type;
using restsync::db::comparable_key;
using restsync::db::key_builder;
using restsync::db::record_key;

namespace {

page read_page(std::string body) {
  auto r = page::read(std::move(body), page_spec("_data"));
  if (const auto* e = std::get_if<page_error>(&r)) FAIL("unexpected error: " << e->message);
  return std::move(std::get<page>(r));
}

// The engine's key before record_key: the key fields as a JSON array written
// by RapidJSON, null for a missing field. Messages show it, so it must not move.
std::string json_key(const rapidjson::Value& record, const std::vector<std::string>& fields) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  for (const auto& f : fields) {
    auto m = record.FindMember(rapidjson::StringRef(f.data(), f.size()));
    if (m == record.MemberEnd())
      w.Null();
    else
      m->value.Accept(w);
  }
  w.EndArray();
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace

TEST_CASE("record_key: the JSON array of the key fields, as RapidJSON writes it") {
  auto pg = read_page(
      R"({"_data":[{"id":42,"s":"abc"},{"id":-7,"s":"qu\"o\\te/\u00e9\n\t\u0001\u001f\u007f"},)"
      R"({"id":1.5,"s":null},{"id":123456789012345678901234567890,"s":true},)"
      R"({"s":{"b":[1,2],"a":"x"}},{"id":18446744073709551615,"s":""},)"
      R"({"id":"42","s":[]},{"id":9223372036854775807,"s":"\u0000x"}]})");
  const std::vector<std::string> fields{"id", "s"};
  for (const auto* r : pg.records()) CHECK(record_key(*r, fields) == json_key(*r, fields));
  CHECK(record_key(*pg.records()[0], fields) == R"([42,"abc"])");
  CHECK(record_key(*pg.records()[4], {"id"}) == "[null]");
  CHECK(record_key(*pg.records()[0], {}) == "[]");
}

TEST_CASE("record_key: every byte of a string escapes as RapidJSON escapes it") {
  for (int c = 0; c < 256; ++c) {
    std::string s = "a";
    s.push_back(static_cast<char>(c));
    s += "b";
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartArray();
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    w.EndArray();
    key_builder k;
    k.add_string(s);
    CHECK_MESSAGE(k.finish() == std::string_view(buf.GetString(), buf.GetSize()), "byte " << c);
  }
}

TEST_CASE("record_key: different values give different keys") {
  auto pg = read_page(
      R"({"_data":[{"a":5,"b":"x"},{"a":"5","b":"x"},{"a":"5,\"x","b":null},)"
      R"({"a":"5","b":",x"},{"a":"5,","b":"x"},{"a":5.0,"b":"x"},{"b":"x"},{"a":null,"b":"x"}]})");
  std::set<std::string> keys;
  for (const auto* r : pg.records()) keys.insert(record_key(*r, {"a", "b"}));
  // A missing field and null are the same key part, as before.
  CHECK(keys.size() == pg.records().size() - 1);
}

TEST_CASE("comparable_key: integers and strings only, as key columns print them back") {
  auto pg = read_page(
      R"({"_data":[{"id":42,"t":"a,b"},{"id":1.5,"t":"x"},{"id":true,"t":"x"},{"t":"x"},)"
      R"({"id":1,"t":"nul\u0000"},{"id":123456789012345678901234567890,"t":"x"},)"
      R"({"id":18446744073709551615,"t":"x"},{"id":-9223372036854775808,"t":"\u00e9\n"}]})");
  const std::vector<std::string> fields{"id", "t"};
  auto recs = pg.records();
  REQUIRE(comparable_key(*recs[0], fields));
  CHECK(*comparable_key(*recs[0], fields) == record_key(*recs[0], fields));
  CHECK_FALSE(comparable_key(*recs[1], fields));  // a double
  CHECK_FALSE(comparable_key(*recs[2], fields));  // a boolean
  CHECK_FALSE(comparable_key(*recs[3], fields));  // missing
  CHECK_FALSE(comparable_key(*recs[4], fields));  // text cannot hold NUL
  CHECK_FALSE(comparable_key(*recs[5], fields));  // numeric, not bigint
  CHECK_FALSE(comparable_key(*recs[6], fields));  // beyond bigint
  REQUIRE(comparable_key(*recs[7], fields));

  // The same keys from the rows' `k::text`, column by column.
  key_builder row;
  row.add_column(pg_type::bigint, "42");
  row.add_column(pg_type::text, "a,b");
  CHECK(*comparable_key(*recs[0], fields) == row.finish());
  row.clear();
  row.add_column(pg_type::bigint, "-9223372036854775808");
  row.add_column(pg_type::text, "\xc3\xa9\n");
  CHECK(*comparable_key(*recs[7], fields) == row.finish());
  // A text column holding digits is not the integer.
  row.clear();
  row.add_column(pg_type::text, "42");
  row.add_column(pg_type::text, "a,b");
  CHECK(*comparable_key(*recs[0], fields) != row.finish());
}

TEST_CASE("key_builder: reused from key to key") {
  key_builder k;
  k.add_column(pg_type::bigint, "1");
  CHECK(k.finish() == "[1]");
  k.clear();
  k.add_column(pg_type::numeric, "1.50");
  k.add_null();
  CHECK(k.finish() == R"(["1.50",null])");
}

#include "restsync/paging/page.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

using restsync::page;
using restsync::page_error;
using restsync::page_spec;

namespace {

page read_ok(std::string body, const page_spec& spec) {
  auto r = page::read(std::move(body), spec);
  if (const auto* e = std::get_if<page_error>(&r)) FAIL("unexpected error: " << e->message);
  return std::move(std::get<page>(r));
}

page read_ok(std::string body, std::string_view selector = "_data") {
  return read_ok(std::move(body), page_spec(selector));
}

page_error read_err(std::string body, const page_spec& spec) {
  auto r = page::read(std::move(body), spec);
  if (std::holds_alternative<page>(r)) {
    FAIL("expected an error, got " << std::get<page>(r).records().size() << " records");
  }
  return std::get<page_error>(std::move(r));
}

page_error read_err(std::string body, std::string_view selector = "_data") {
  return read_err(std::move(body), page_spec(selector));
}

std::string str(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("an array under the selector: its elements are the records, in order") {
  const auto p = read_ok(R"({"_data":[{"id":1,"name":"a"},{"id":2,"name":"b"}]})");
  REQUIRE(p.records().size() == 2);
  CHECK(p.records()[0]->operator[]("id").GetInt64() == 1);
  CHECK(str(p.records()[1]->operator[]("name")) == "b");
  CHECK_FALSE(p.singleton());
  CHECK_FALSE(p.total());
  CHECK_FALSE(p.next());
}

TEST_CASE("records point into the page's document, and survive moving the page") {
  auto p = read_ok(R"({"_data":[{"id":1}]})");
  CHECK(p.records()[0] == &p.document()["_data"][0]);
  const auto moved = std::move(p);
  CHECK(moved.records()[0]->operator[]("id").GetInt64() == 1);

  // With `$` the record is the document's root value itself.
  auto s = read_ok(R"({"uid":"x"})", "$");
  const auto moved_s = std::move(s);
  REQUIRE(moved_s.records().size() == 1);
  CHECK(str(moved_s.records()[0]->operator[]("uid")) == "x");
}

TEST_CASE("malformed JSON is an error that says where") {
  SUBCASE("truncated body") {
    const auto e = read_err(R"({"_data":[{"id":1},{"id":)");
    CHECK(e.what == page_error::kind::malformed);
    CHECK(
        e.message.starts_with("malformed JSON at byte 25: Invalid value. (the body has 25 bytes)"));
  }
  SUBCASE("empty body") {
    const auto e = read_err("");
    CHECK(e.what == page_error::kind::malformed);
    CHECK(e.message.starts_with("malformed JSON at byte 0: The document is empty."));
  }
  SUBCASE("garbage after the document") {
    const auto e = read_err(R"({"_data":[]} x)");
    CHECK(e.what == page_error::kind::malformed);
    CHECK(contains(e.message, "at byte 13"));
  }
  SUBCASE("a NUL byte after the document is not an end of input") {
    const auto e = read_err(std::string(R"({"_data":[]})") + '\0' + "junk");
    CHECK(e.what == page_error::kind::malformed);
    CHECK(contains(e.message, "at byte 12"));
  }
  SUBCASE("a raw NUL inside a string") {
    const auto e = read_err(std::string(R"({"_data":[{"a":"x)") + '\0' + "y\"}]}");
    CHECK(e.what == page_error::kind::malformed);
  }
  SUBCASE("HTML from a proxy") {
    const auto e = read_err("<html><body>502 Bad Gateway</body></html>");
    CHECK(e.what == page_error::kind::malformed);
    CHECK(contains(e.message, "at byte 0"));
  }
  SUBCASE("a body cut inside a UTF-8 sequence, inside a string") {
    for (const char* tail : {"\xed", "\xf0\x9f", "\xe6\x97", "\xc3"}) {
      CHECK(read_err(std::string(R"({"_data":[{"a":"x)") + tail).what ==
            page_error::kind::malformed);
      CHECK(read_err(std::string(R"({"_data":[{"a)") + tail).what == page_error::kind::malformed);
    }
  }
  SUBCASE("invalid UTF-8") {
    const auto e = read_err("{\"_data\":[{\"a\":\"\xff\xfe\"}]}");
    CHECK(e.what == page_error::kind::malformed);
    CHECK(contains(e.message, "Invalid encoding"));
    // A surrogate written as raw UTF-8 bytes, an overlong NUL, beyond U+10FFFF.
    for (const char* bad : {"\xed\xb0\x80", "\xc0\x80", "\xf4\x90\x80\x80"}) {
      CHECK(read_err(std::string("{\"_data\":[{\"a\":\"") + bad + "\"}]}").what ==
            page_error::kind::malformed);
    }
  }
  SUBCASE("leading and trailing whitespace is fine") {
    CHECK(read_ok(" \n\t{\"_data\":[]}\r\n ").records().empty());
  }
}

TEST_CASE("nesting is bounded so that no walk can exhaust the stack") {
  const auto nested = [](int depth) {
    return R"({"_data":[{"a":)" + std::string(static_cast<size_t>(depth), '[') +
           std::string(static_cast<size_t>(depth), ']') + "}]}";
  };
  // The body object, the array and the record take three levels.
  CHECK(read_ok(nested(page::max_depth - 3)).records().size() == 1);
  const auto e = read_err(nested(page::max_depth - 2));
  CHECK(e.what == page_error::kind::malformed);
  CHECK(contains(e.message, fmt::format("nesting deeper than {} levels", page::max_depth)));
  CHECK(read_err(std::string(1'000'000, '[')).what == page_error::kind::malformed);
}

TEST_CASE("a body that is not an object") {
  SUBCASE("is an error under a key selector") {
    for (const char* body : {R"([{"id":1}])", "null", "42", R"("text")", "true"}) {
      CAPTURE(body);
      const auto e = read_err(body);
      CHECK(e.what == page_error::kind::not_object);
      CHECK(contains(e.message, "not an object"));
    }
  }
  SUBCASE("is read as it is under `$`") {
    const auto p = read_ok(R"([{"id":1},{"id":2}])", "$");
    CHECK(p.records().size() == 2);
    CHECK(read_ok("null", "$").records().empty());
    CHECK(read_ok("[]", "$").records().empty());
    CHECK(read_err("42", "$").what == page_error::kind::selector);
  }
}

TEST_CASE("a non-empty _errors is an error, with each code and message") {
  SUBCASE("the vendor's auth failure") {
    const auto e = read_err(R"({"_errors":[{"code":401,"message":"Invalid API token"}]})");
    CHECK(e.what == page_error::kind::api_errors);
    CHECK(contains(e.message, "401"));
    CHECK(contains(e.message, "Invalid API token"));
    REQUIRE(e.api_errors.size() == 1);
    CHECK(e.api_errors[0].code == "401");
    CHECK(e.api_errors[0].message == "Invalid API token");
  }
  SUBCASE("even beside records") {
    const auto e =
        read_err(R"({"_data":[{"id":1}],"_errors":[{"code":"E_PARTIAL","message":"partial"}]})");
    CHECK(e.what == page_error::kind::api_errors);
    CHECK(e.api_errors[0].code == "E_PARTIAL");
  }
  SUBCASE("several errors, all named") {
    const auto e = read_err(
        R"({"_errors":[{"code":500,"message":"boom"},{"code":503,"message":"later"},"plain"]})");
    REQUIRE(e.api_errors.size() == 3);
    CHECK(contains(e.message, "[500] boom"));
    CHECK(contains(e.message, "[503] later"));
    CHECK(contains(e.message, "plain"));
    CHECK(e.api_errors[2].code.empty());
  }
  SUBCASE("an error without a message names its keys") {
    const auto e = read_err(R"({"_errors":[{"code":7,"reason":"x"}]})");
    CHECK(contains(e.message, "[7]"));
    CHECK(contains(e.message, "reason"));
  }
  SUBCASE("an _errors that is not an array is still an error") {
    CHECK(read_err(R"({"_errors":"Invalid API token"})").what == page_error::kind::api_errors);
    CHECK(read_err(R"({"_errors":{"code":401,"message":"no"}})").api_errors[0].code == "401");
    CHECK(read_err(R"({"_errors":true})").what == page_error::kind::api_errors);
  }
  SUBCASE("checked under `$` too") {
    CHECK(read_err(R"({"_errors":[{"code":401,"message":"x"}]})", "$").what ==
          page_error::kind::api_errors);
  }
  SUBCASE("the key is configuration") {
    const page_spec spec("data", {}, {}, "errors");
    CHECK(read_err(R"({"errors":[{"message":"nope"}]})", spec).what ==
          page_error::kind::api_errors);
    CHECK(read_ok(R"({"_errors":[{"message":"other API"}],"data":[]})", spec).records().empty());
    const page_spec none("data", {}, {}, "");
    CHECK(read_ok(R"({"_errors":[{"message":"x"}],"data":[{}]})", none).records().size() == 1);
  }
}

TEST_CASE("an empty or absent _errors is no error") {
  CHECK(read_ok(R"({"_errors":[],"_data":[{"id":1}]})").records().size() == 1);
  CHECK(read_ok(R"({"_errors":null,"_data":[{"id":1}]})").records().size() == 1);
  CHECK(read_ok(R"({"_errors":{},"_data":[{"id":1}]})").records().size() == 1);
}

TEST_CASE("an absent first key is an empty collection") {
  for (const char* body : {"{}", R"({"_errors":[]})", R"({"meta":{"x":1}})"}) {
    CAPTURE(body);
    const auto p = read_ok(body);
    CHECK(p.records().empty());
    CHECK_FALSE(p.singleton());
    CHECK(read_ok(body, "_data.partialCollection").records().empty());
  }
}

TEST_CASE("null under the selector is an empty collection") {
  CHECK(read_ok(R"({"_data":null})").records().empty());
  CHECK(read_ok(R"({"_data":null})", "_data.partialCollection").records().empty());
  CHECK(read_ok(R"({"_data":{"partialCollection":null}})", "_data.partialCollection")
            .records()
            .empty());
  CHECK(read_ok(R"({"_data":[]})").records().empty());
}

TEST_CASE("every element of the collection must be an object") {
  const auto e = read_err(R"({"_data":[{"id":1},{"id":2},5,{"id":4}]})");
  CHECK(e.what == page_error::kind::bad_record);
  CHECK(contains(e.message, "record 2 is a JSON number"));
  CHECK(contains(read_err(R"({"_data":[null]})").message, "record 0 is a JSON null"));
  CHECK(contains(read_err(R"({"_data":[[{"id":1}]]})").message, "record 0 is a JSON array"));
  CHECK(contains(read_err(R"({"_data":["x"]})").message, "JSON string"));
}

TEST_CASE("one object under the selector is one record") {
  const auto p = read_ok(
      R"({"_data":{"uid":"abc","isGaPremium":false,"ga":{"enabled":true,"prefix":"x"},"ua":{"enabled":false}}})");
  REQUIRE(p.records().size() == 1);
  CHECK(p.singleton());
  CHECK(str(p.records()[0]->operator[]("uid")) == "abc");

  SUBCASE("arrays of scalars and nested wrappers do not make it a wrapper") {
    const auto s = read_ok(
        R"({"_data":{"uid":"t","tags":["a","b"],"count":3,"goals":{"offset":0,"totalCount":1,"partialCollection":[{"id":1}]}}})");
    CHECK(s.singleton());
    CHECK(s.records().size() == 1);
  }
  SUBCASE("the smartcode snippet, quotes, newlines and all") {
    const auto s = read_ok(
        R"({"_data":{"uid":"sc","async":"<script>\n  var a = \"x\";\n</script>","sync":"<script src='//x'></script>"}})");
    CHECK(str(s.records()[0]->operator[]("async")) == "<script>\n  var a = \"x\";\n</script>");
  }
}

TEST_CASE("a selector that lands on a wrapped collection is an error that says so") {
  const char* body =
      R"({"_data":{"partialCollection":[{"id":1},{"id":2}],"totalCount":123,"offset":0}})";
  const auto e = read_err(body);
  CHECK(e.what == page_error::kind::selector);
  CHECK(e.message ==
        "data_selector `_data` landed on a wrapper object with keys [partialCollection, "
        "totalCount, offset]; use `_data.partialCollection`");

  SUBCASE("even when the page is empty") {
    CHECK(read_err(R"({"_data":{"partialCollection":[],"totalCount":0,"offset":0}})").what ==
          page_error::kind::selector);
  }
  SUBCASE("any array of objects beside a paging field") {
    const auto w = read_err(R"({"_data":{"campaigns":[{"id":1}],"count":1}})");
    CHECK(contains(w.message, "use `_data.campaigns`"));
  }
  SUBCASE("a well-known collection key alone") {
    CHECK(contains(read_err(R"({"_data":{"items":[{"id":1}]}})").message, "use `_data.items`"));
    CHECK(
        contains(read_err(R"({"results":[{"id":1}],"next":null})", "$").message, "use `results`"));
  }
  SUBCASE("a body read whole under `$` that is the usual envelope") {
    CHECK(contains(read_err(R"({"_data":[{"id":1}]})", "$").message, "use `_data`"));
  }
  SUBCASE("the right selector reads it, with its total") {
    const auto p = read_ok(body, page_spec("_data.partialCollection", "_data.totalCount"));
    REQUIRE(p.records().size() == 2);
    CHECK(p.records()[1]->operator[]("id").GetInt64() == 2);
    CHECK(p.total() == 123);
    CHECK_FALSE(p.singleton());
  }
  SUBCASE("wrappers nested in wrappers") {
    const char* nested =
        R"({"_data":{"result":{"partialCollection":[{"id":9}],"totalCount":1,"offset":0}}})";
    CHECK(
        contains(read_err(nested, "_data.result").message, "use `_data.result.partialCollection`"));
    CHECK(read_ok(nested, "_data.result.partialCollection").records().size() == 1);
  }
}

TEST_CASE("a missing key below the first is an error naming the keys that are there") {
  SUBCASE("unwrapped data where a wrapper was configured") {
    const auto e = read_err(R"({"_data":{"items":[],"total":0}})", "_data.partialCollection");
    CHECK(e.what == page_error::kind::selector);
    CHECK(e.message ==
          "data_selector `_data.partialCollection`: `_data` has no key `partialCollection`; its "
          "keys are [items, total]");
  }
  SUBCASE("an empty object") {
    CHECK(contains(read_err(R"({"_data":{}})", "_data.partialCollection").message,
                   "its keys are []"));
  }
  SUBCASE("an array where an object was expected") {
    const auto e = read_err(R"({"_data":[{"id":1}]})", "_data.partialCollection");
    CHECK(e.what == page_error::kind::selector);
    CHECK(contains(e.message, "`_data` is a JSON array, not an object"));
    CHECK(read_err(R"({"_data":[]})", "_data.partialCollection").what ==
          page_error::kind::selector);
  }
  SUBCASE("a scalar where an object was expected") {
    CHECK(contains(read_err(R"({"a":{"b":3}})", "a.b.c").message, "`a.b` is a JSON number"));
  }
  SUBCASE("three levels") {
    CHECK(contains(read_err(R"({"a":{"b":{"x":1,"y":2}}})", "a.b.c").message,
                   "`a.b` has no key `c`; its keys are [x, y]"));
    CHECK(read_ok(R"({"a":{"b":{"c":[{"id":1}]}}})", "a.b.c").records().size() == 1);
  }
}

TEST_CASE("a selector that lands on a scalar is an error") {
  for (const char* body : {R"({"_data":5})", R"({"_data":"x"})", R"({"_data":true})"}) {
    CAPTURE(body);
    const auto e = read_err(body);
    CHECK(e.what == page_error::kind::selector);
    CHECK(contains(e.message, "landed on a JSON"));
  }
}

TEST_CASE("selector syntax") {
  CHECK(read_ok(R"({"_data":[{}]})", "$._data").records().size() == 1);
  CHECK(read_ok(R"([{}])", "").records().size() == 1);
  CHECK(page_spec("").data_selector() == "$");
  CHECK_THROWS_AS(page_spec("a..b"), std::invalid_argument);
  CHECK_THROWS_AS(page_spec("a."), std::invalid_argument);
  CHECK_THROWS_AS(page_spec(".a"), std::invalid_argument);
  CHECK_THROWS_AS(page_spec("_data", "x..y"), std::invalid_argument);
  CHECK_THROWS_AS(page_spec("_data", {}, "$."), std::invalid_argument);
}

TEST_CASE("unicode and escapes arrive decoded, byte for byte") {
  const auto p = read_ok(
      R"({"_data":[{"name":"Zoë ünïcode 日本 😀","esc":"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t","nul":"a\u0000b","lone":"x\udc00y"}]})");
  const auto& r = *p.records()[0];
  CHECK(str(r["name"]) == "Zoë ünïcode 日本 😀");
  CHECK(str(r["esc"]) == "é😀\"\\/\b\f\n\r\t");
  CHECK(str(r["nul"]) == std::string("a\0b", 3));
  // A lone low surrogate is let through encoded as UTF-8; schema.hpp escapes it.
  CHECK(str(r["lone"]) == "x\xed\xb0\x80y");
  CHECK_FALSE(restsync::is_marked_number(r["name"]));
}

TEST_CASE("a lone surrogate of either half arrives as three bytes; pairs decode") {
  // An API that cuts UTF-16 text mid-character sends a lone high surrogate
  // (an emoji cut to "\ud83d"); it used to make the whole page malformed.
  // Either half is let through as UTF-8 would encode the code unit, as
  // RapidJSON does for a lone low one; schema.hpp stores it as `\udXXX`.
  const auto p = read_ok(R"({"_data":[{
      "high":"\ud800",
      "cut":"x\ud83dy",
      "upper":"\uD83D",
      "end":"\udbff",
      "low":"\udc00",
      "pair":"\ud83d\ude00",
      "two_highs":"\ud83d\ud83d\ude00",
      "then_ascii":"\ud83d\u0041",
      "then_low_escaped":"\ud83d\\ude00",
      "not_an_escape":"\\ud83d",
      "\ud83d":"key",
      "after":1}]})");
  const auto& r = *p.records()[0];
  CHECK(str(r["high"]) == "\xed\xa0\x80");
  CHECK(str(r["cut"]) == "x\xed\xa0\xbdy");
  CHECK(str(r["upper"]) == "\xed\xa0\xbd");
  CHECK(str(r["end"]) == "\xed\xaf\xbf");
  CHECK(str(r["low"]) == "\xed\xb0\x80");
  CHECK(str(r["pair"]) == "😀");
  CHECK(str(r["two_highs"]) == "\xed\xa0\xbd😀");
  CHECK(str(r["then_ascii"]) == "\xed\xa0\xbd\x41");
  CHECK(str(r["then_low_escaped"]) == "\xed\xa0\xbd\\ude00");
  CHECK(str(r["not_an_escape"]) == "\\ud83d");
  CHECK(str(r["\xed\xa0\xbd"]) == "key");
  CHECK(r["after"].GetInt() == 1);

  // Still malformed: a body cut after the surrogate, raw surrogate bytes.
  CHECK(read_err(R"({"_data":[{"a":"\ud83d)").what == page_error::kind::malformed);
  CHECK(read_err("{\"_data\":[{\"a\":\"\\ud83d\xed\xa0\xbd\"}]}").what ==
        page_error::kind::malformed);
  // A byte that is never UTF-8 stays an error where it is.
  const auto e = read_err("{\"_data\":[{\"b\":\"\xf8\",\"a\":\"\\ud83d\"}]}");
  CHECK(e.what == page_error::kind::malformed);
  CHECK(contains(e.message, "at byte 16: Invalid encoding"));
  // Even where it looks like a mark.
  CHECK(read_err("{\"_data\":[{\"b\":\"\xf8uD83D\",\"a\":\"\\ud83d\"}]}").what ==
        page_error::kind::malformed);
}

TEST_CASE("integers keep every digit, big ones as their literal") {
  const auto p = read_ok(R"({"_data":[{
      "small":-42,
      "i64max":9223372036854775807,
      "i64min":-9223372036854775808,
      "u64":9223372036854775808,
      "u64max":18446744073709551615,
      "over_u64":18446744073709551616,
      "under_i64":-9223372036854775809,
      "huge":123456789012345678901234567890123456789012345678901234567890,
      "neg_huge":-98765432109876543210987654321,
      "nested":{"a":[1,99999999999999999999999,{"b":-99999999999999999999999}]},
      "big_float":1.5e300,
      "exp_int":1e19,
      "frac_big":12345678901234567890123.5,
      "neg_exp":-1.0E+19,
      "tiny":5e-324,
      "pi":3.141592653589793,
      "point_one":0.1}]})");
  const auto& r = *p.records()[0];
  CHECK(r["small"].GetInt64() == -42);
  CHECK(r["i64max"].GetInt64() == INT64_MAX);
  CHECK(r["i64min"].GetInt64() == INT64_MIN);
  CHECK_FALSE(r["u64"].IsInt64());
  CHECK(r["u64"].GetUint64() == 9223372036854775808ULL);
  CHECK(r["u64max"].GetUint64() == UINT64_MAX);

  using restsync::is_big_number;
  using restsync::marked_number_text;
  REQUIRE(is_big_number(r["over_u64"]));
  CHECK(marked_number_text(r["over_u64"]) == "18446744073709551616");
  REQUIRE(is_big_number(r["under_i64"]));
  CHECK(marked_number_text(r["under_i64"]) == "-9223372036854775809");
  CHECK(marked_number_text(r["huge"]) ==
        "123456789012345678901234567890123456789012345678901234567890");
  CHECK(marked_number_text(r["neg_huge"]) == "-98765432109876543210987654321");
  CHECK(marked_number_text(r["nested"]["a"][1]) == "99999999999999999999999");
  CHECK(marked_number_text(r["nested"]["a"][2]["b"]) == "-99999999999999999999999");

  // Literals with a fraction or an exponent are doubles, however large; one
  // with more digits than a double holds is a verbatim double.
  CHECK(r["big_float"].GetDouble() == 1.5e300);
  CHECK(r["exp_int"].IsDouble());
  CHECK(r["exp_int"].GetDouble() == 1e19);
  REQUIRE(restsync::is_verbatim_double(r["frac_big"]));
  CHECK(restsync::verbatim_double_value(r["frac_big"]) == 12345678901234567890123.5);
  CHECK(r["neg_exp"].GetDouble() == -1e19);
  CHECK(r["tiny"].GetDouble() == 5e-324);
  CHECK(r["pi"].GetDouble() == 3.141592653589793);
  CHECK(r["point_one"].GetDouble() == 0.1);
}

TEST_CASE("doubles are correctly rounded from their literal") {
  // RapidJSON 1.1's full-precision path gets the first three wildly wrong
  // (negative, e+264); its default path is an ulp off on the first and last.
  const auto p = read_ok(R"({"_data":[{"a":[
      0.184467440737095516156,
      1.84467440737095516156e20,
      18446744073709551615.5,
      2.2250738585072011e-308,
      -1.5e-10,
      1E+2,
      0.30000000000000004]}]})");
  const auto& a = p.records()[0]->operator[]("a");
  // The first four have more digits than a double holds: verbatim doubles.
  const auto value = [](const rapidjson::Value& v) {
    return restsync::is_verbatim_double(v) ? restsync::verbatim_double_value(v) : v.GetDouble();
  };
  CHECK(value(a[0]) == 0.18446744073709551);
  CHECK(value(a[0]) != 0.18446744073709553);
  CHECK(value(a[1]) == 1.8446744073709552e+20);
  CHECK(value(a[2]) == 1.8446744073709552e+19);
  CHECK(value(a[3]) == 2.2250738585072009e-308);
  CHECK(a[4].GetDouble() == -1.5e-10);
  CHECK(a[5].GetDouble() == 100.0);
  CHECK(a[6].GetDouble() == 0.30000000000000004);
}

TEST_CASE("a double written with more digits than it holds keeps its literal") {
  // Each literal's decimal value differs from its double's shortest form.
  const std::pair<const char*, double> kept[] = {
      {"33.333333333333339", 33.333333333333336},  // Grisu, not shortest
      {"-33.333333333333339", -33.333333333333336},
      {"0.10000000000000001", 0.1},
      {"0.184467440737095516156", 0.18446744073709551},
      {"1.00000000000000001e-5", 1e-5},
      {"9007199254740993.0", 9007199254740992.0},  // an integer beyond 2^53
      {"12345678901234567890123.5", 1.2345678901234568e22},
      {"4.9e-324", 5e-324},  // few digits, but a subnormal holds fewer
      {"1.7976931348623158e308", 1.7976931348623157e308},
      {"100000000000000000000001e-5", 1e18},  // a non-zero digit beyond the 19th
      {"1.2345678901234567890", 1.2345678901234567},
      {"1.2345678901234568", 1.2345678901234567},  // 17 digits, but not the shortest's
  };
  for (const auto& [literal, d] : kept) {
    CAPTURE(literal);
    const auto p = read_ok(fmt::format(R"({{"_data":[{{"a":{}}}]}})", literal));
    const auto& v = p.records()[0]->operator[]("a");
    REQUIRE(restsync::is_verbatim_double(v));
    CHECK(restsync::is_marked_number(v));
    CHECK_FALSE(restsync::is_big_number(v));
    CHECK(restsync::marked_number_text(v) == literal);
    CHECK(restsync::verbatim_double_value(v) == d);
  }

  // Shortest forms, and literals that differ from them in spelling only.
  const std::pair<const char*, double> plain[] = {
      {"33.333333333333336", 33.333333333333336},
      {"0.30000000000000004", 0.30000000000000004},
      {"3.141592653589793", 3.141592653589793},
      {"123456789012345.6", 123456789012345.6},
      {"0.1", 0.1},
      {"1.50", 1.5},
      {"1e2", 100.0},
      {"100.0", 100.0},
      {"1.5000000000000000000000000", 1.5},
      {"10000000000000000000.0", 1e19},
      {"0.000", 0.0},
      {"-0.0", -0.0},
      {"0e-999999999999", 0.0},
      {"5e-324", 5e-324},
      {"2.2250738585072014e-308", 2.2250738585072014e-308},
      {"1.7976931348623157e308", 1.7976931348623157e308},
      {"0.00012345678901234500", 0.000123456789012345},
      {"100000000000000000000000e-5", 1e18},
      {"0.1e1", 1.0},
      {"-2.5E-3", -0.0025},
      {"1.2345678901234567", 1.2345678901234567},
      {"12345678901234567e-16", 1.2345678901234567},
  };
  for (const auto& [literal, d] : plain) {
    CAPTURE(literal);
    const auto p = read_ok(fmt::format(R"({{"_data":[{{"a":{}}}]}})", literal));
    const auto& v = p.records()[0]->operator[]("a");
    REQUIRE(v.IsDouble());
    CHECK(v.GetDouble() == d);
  }
}

TEST_CASE("verbatim doubles wherever they sit, and where a number is read as text") {
  const auto p = read_ok(
      R"({"_data":[{"variations":{"partialCollection":[{"percentSplit":33.333333333333339},)"
      R"({"percentSplit":33.333333333333336}]},"list":[0.10000000000000001]}]})");
  const auto& r = *p.records()[0];
  const auto& split = r["variations"]["partialCollection"];
  CHECK(restsync::marked_number_text(split[0]["percentSplit"]) == "33.333333333333339");
  CHECK(split[1]["percentSplit"].IsDouble());
  CHECK(restsync::marked_number_text(r["list"][0]) == "0.10000000000000001");

  CHECK(read_err("0.10000000000000001", "$").message ==
        "data_selector `$` landed on a JSON number, not on records");
  const page_spec next("_data", {}, "next");
  CHECK(read_ok(R"({"_data":[],"next":0.10000000000000001})", next).next() ==
        "0.10000000000000001");
  // Not an integer, as the API wrote it, whatever the double.
  const auto e =
      read_err(R"({"_data":[],"total":5.0000000000000001})", page_spec("_data", "total"));
  CHECK(e.what == page_error::kind::bad_total);
  CHECK(contains(e.message, "holds 5.0000000000000001 (a JSON number)"));
}

TEST_CASE("a double's shortest form is never kept, nor one of 15 digits") {
  // Doubles from every binade, by their bits.
  std::mt19937_64 random(20240601);
  int tried = 0;
  int kept17 = 0;
  while (tried < 20000) {
    const auto bits = random();
    double d = 0;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    ++tried;
    CAPTURE(d);
    // Scientific, so that integral doubles are not read as integers.
    std::array<char, 32> buf;
    const auto end =
        std::to_chars(buf.data(), buf.data() + buf.size(), d, std::chars_format::scientific);
    const std::string shortest(buf.data(), end.ptr);
    const auto p = read_ok(
        fmt::format(R"({{"_data":[{{"s":{},"e15":{:.14e},"e17":{:.16e}}}]}})", shortest, d, d));
    const auto& r = *p.records()[0];
    REQUIRE(r["s"].IsDouble());
    CHECK(r["s"].GetDouble() == d);
    // 15 significant digits survive a normal double both ways (DBL_DIG).
    if (std::fabs(d) >= std::numeric_limits<double>::min()) CHECK(r["e15"].IsDouble());
    // 17 digits always pick the double; they are its shortest form padded
    // with zeros, or another decimal.
    const auto& e17 = r["e17"];
    if (e17.IsDouble()) {
      CHECK(e17.GetDouble() == d);
    } else {
      REQUIRE(restsync::is_verbatim_double(e17));
      CHECK(restsync::verbatim_double_value(e17) == d);
      ++kept17;
    }
  }
  // About half of all doubles have a shortest form of 16 digits or fewer,
  // so 17 digits are another decimal; the others mostly have exactly these 17.
  CHECK(kept17 > tried / 3);
  CHECK(kept17 < tried * 2 / 3);
}

TEST_CASE("numbers beyond the range of a double are kept as their literal") {
  const auto p = read_ok(R"({"_data":[{"tiny":1e-400,"huge":1.8e308,"neg":-2.5E-1000}]})");
  const auto& r = *p.records()[0];
  REQUIRE(restsync::is_big_number(r["tiny"]));
  CHECK(restsync::marked_number_text(r["tiny"]) == "1e-400");
  CHECK(restsync::marked_number_text(r["huge"]) == "1.8e308");
  CHECK(restsync::marked_number_text(r["neg"]) == "-2.5E-1000");
}

TEST_CASE("big integers wherever the literal ends") {
  for (const char* body :
       {R"({"_data":[{"a":99999999999999999999}]})", R"({"_data":[{"a":99999999999999999999 }]})",
        "{\"_data\":[{\"a\":99999999999999999999\n,\"b\":1}]}",
        R"({"_data":[{"a":[99999999999999999999]}]})"}) {
    CAPTURE(body);
    const auto p = read_ok(body);
    const auto& a = p.records()[0]->operator[]("a");
    const auto& v = a.IsArray() ? a[0] : a;
    REQUIRE(restsync::is_big_number(v));
    CHECK(restsync::marked_number_text(v) == "99999999999999999999");
  }
  // The literal is the whole body: nothing follows it.
  const auto e = read_err("99999999999999999999", "$");
  CHECK(e.message == "data_selector `$` landed on a JSON number, not on records");
}

TEST_CASE("numbers beyond double range are malformed (RapidJSON refuses them)") {
  CHECK(read_err(R"({"_data":[{"a":1e400}]})").what == page_error::kind::malformed);
  CHECK(read_err(R"({"_data":[{"a":1)" + std::string(320, '0') + "}]}").what ==
        page_error::kind::malformed);
  const std::string digits = "9" + std::string(299, '1');
  const auto p = read_ok(R"({"_data":[{"a":)" + digits + "}]}");
  CHECK(restsync::marked_number_text(p.records()[0]->operator[]("a")) == digits);
}

TEST_CASE("total as a number or a string") {
  const page_spec spec("_data.partialCollection", "_data.totalCount");
  const auto with_total = [&](const std::string& total) {
    return R"({"_data":{"partialCollection":[{"id":1}],"offset":0,"totalCount":)" + total + "}}";
  };
  CHECK(read_ok(with_total("123"), spec).total() == 123);
  CHECK(read_ok(with_total("\"123\""), spec).total() == 123);
  CHECK(read_ok(with_total("0"), spec).total() == 0);
  CHECK(read_ok(with_total("12.0"), spec).total() == 12);
  CHECK(read_ok(with_total("9223372036854775807"), spec).total() == INT64_MAX);
  CHECK_FALSE(read_ok(with_total("null"), spec).total());
  CHECK_FALSE(read_ok(R"({"_data":{"partialCollection":[]}})", spec).total());
  CHECK_FALSE(read_ok("{}", spec).total());

  for (const char* bad : {"-1", "\"-1\"", "\"abc\"", "\"12x\"", "\"\"", "1.5", "true", "[1]", "{}",
                          "99999999999999999999", "18446744073709551615"}) {
    CAPTURE(bad);
    const auto e = read_err(with_total(bad), spec);
    CHECK(e.what == page_error::kind::bad_total);
    CHECK(contains(e.message, "total_path `_data.totalCount`"));
  }
  CHECK(read_err(R"({"meta":5,"_data":[]})", page_spec("_data", "meta.total")).what ==
        page_error::kind::bad_total);
  CHECK(read_ok(R"({"meta":{"total":"7"},"_data":[]})", page_spec("_data", "meta.total")).total() ==
        7);
}

TEST_CASE("next cursor as a string or a number") {
  const page_spec spec("_data", {}, "_links.next");
  CHECK(read_ok(R"({"_data":[],"_links":{"next":"https://x/v1?page=2"}})", spec).next() ==
        "https://x/v1?page=2");
  CHECK(read_ok(R"({"_data":[],"_links":{"next":42}})", spec).next() == "42");
  CHECK(read_ok(R"({"_data":[],"_links":{"next":123456789012345678901234}})", spec).next() ==
        "123456789012345678901234");
  CHECK_FALSE(read_ok(R"({"_data":[],"_links":{"next":null}})", spec).next());
  CHECK_FALSE(read_ok(R"({"_data":[],"_links":{"next":""}})", spec).next());
  CHECK_FALSE(read_ok(R"({"_data":[],"_links":{}})", spec).next());
  CHECK_FALSE(read_ok(R"({"_data":[]})", spec).next());
  CHECK(read_err(R"({"_data":[],"_links":{"next":{"href":"x"}}})", spec).what ==
        page_error::kind::bad_next);
  CHECK(read_err(R"({"_data":[],"_links":{"next":true}})", spec).what ==
        page_error::kind::bad_next);
  CHECK(read_err(R"({"_data":[],"_links":"x"})", spec).what == page_error::kind::bad_next);
}

TEST_CASE("a 1 MB body") {
  std::string body = R"({"_data":[)";
  int n = 0;
  while (body.size() < (1u << 20)) {
    if (n != 0) body += ',';
    body += fmt::format(
        R"({{"id":{},"createdOn":{},"name":"campaign \"{}\" é","isActive":{},"score":{},"big":{}}})",
        n, 1700000000 + n, n, n % 2 == 0 ? "true" : "false", n * 0.5,
        "1" + std::string(25, static_cast<char>('0' + n % 10)));
    ++n;
  }
  body += "]}";
  const auto p = read_ok(body);
  REQUIRE(p.records().size() == static_cast<size_t>(n));
  const auto& last = *p.records().back();
  CHECK(last["id"].GetInt64() == n - 1);
  CHECK(str(last["name"]) == fmt::format("campaign \"{}\" é", n - 1));
  CHECK(restsync::marked_number_text(last["big"]) ==
        "1" + std::string(25, static_cast<char>('0' + (n - 1) % 10)));
}

// The shipped configuration's selectors: the analytics API sends a list
// plain or wrapped (ANALYTICS_API.md, quirk 2), and the singletons plain.
namespace {

page_spec both_shapes() {
  return page_spec(std::vector<std::string>{"_data.partialCollection", "_data"},
                   "_data.totalCount");
}

}  // namespace

TEST_CASE("alternative selectors: the wrapped shape, with its total") {
  const auto p =
      read_ok(R"({"_data":{"partialCollection":[{"id":1},{"id":2}],"totalCount":123,"offset":0}})",
              both_shapes());
  REQUIRE(p.records().size() == 2);
  CHECK(p.records()[1]->operator[]("id").GetInt64() == 2);
  CHECK(p.total() == 123);
  CHECK_FALSE(p.singleton());
  CHECK(both_shapes().data_selector() == "[_data.partialCollection, _data]");

  SUBCASE("an empty wrapped page, and a null collection in a wrapper") {
    const auto e =
        read_ok(R"({"_data":{"partialCollection":[],"totalCount":0,"offset":0}})", both_shapes());
    CHECK(e.records().empty());
    CHECK(e.total() == 0);
    // Present but null: this shape, empty; never the wrapper loaded as a record.
    const auto n = read_ok(R"({"_data":{"partialCollection":null,"totalCount":0}})", both_shapes());
    CHECK(n.records().empty());
    CHECK_FALSE(n.singleton());
  }
}

TEST_CASE("alternative selectors: the plain shape, where the total's path runs into the records") {
  const auto p = read_ok(R"({"_data":[{"id":1},{"id":2},{"id":3}]})", both_shapes());
  REQUIRE(p.records().size() == 3);
  CHECK(p.records()[2]->operator[]("id").GetInt64() == 3);
  CHECK_FALSE(p.total());
  CHECK_FALSE(p.singleton());

  SUBCASE("an empty plain page, and the empty forms without _data") {
    CHECK(read_ok(R"({"_data":[]})", both_shapes()).records().empty());
    CHECK(read_ok(R"({})", both_shapes()).records().empty());
    CHECK(read_ok(R"({"_errors":[]})", both_shapes()).records().empty());
    CHECK(read_ok(R"({"_data":null})", both_shapes()).records().empty());
  }
  SUBCASE("a singleton, whose fields are never the total") {
    const auto s = read_ok(R"({"_data":{"uid":"t","visitors":100}})", both_shapes());
    REQUIRE(s.records().size() == 1);
    CHECK(s.singleton());
    CHECK(str(s.records()[0]->operator[]("uid")) == "t");
    const auto t = read_ok(R"({"_data":{"uid":"t","totalCount":"many"}})", both_shapes());
    CHECK(t.singleton());
    CHECK_FALSE(t.total());
  }
  SUBCASE("order decides: the first selector that reaches records wins") {
    const page_spec spec(std::vector<std::string>{"items", "_data"});
    CHECK(read_ok(R"({"_data":[{"id":1}],"items":[{"id":7},{"id":8}]})", spec).records().size() ==
          2);
    // An absent first key is passed over: never an empty page while records are there.
    CHECK(read_ok(R"({"_data":[{"id":1}]})", spec).records().size() == 1);
  }
  SUBCASE("errors in a 200 are still errors") {
    CHECK(read_err(R"({"_errors":[{"code":401,"message":"Invalid API token"}]})", both_shapes())
              .what == page_error::kind::api_errors);
  }
}

TEST_CASE("alternative selectors: a body neither reaches is an error naming what each found") {
  SUBCASE("a string") {
    const auto e = read_err(R"({"_data":"maintenance"})", both_shapes());
    CHECK(e.what == page_error::kind::selector);
    CHECK(e.message ==
          "no data_selector of [_data.partialCollection, _data] reached records: data_selector "
          "`_data.partialCollection`: `_data` is a JSON string, not an object; data_selector "
          "`_data` landed on a JSON string, not on records");
  }
  SUBCASE("another wrapper") {
    const auto e = read_err(R"({"_data":{"items":[{"id":1}],"total":1}})", both_shapes());
    CHECK(e.what == page_error::kind::selector);
    CHECK(
        contains(e.message, "`_data` has no key `partialCollection`; its keys are [items, total]"));
    CHECK(contains(e.message,
                   "data_selector `_data` landed on a wrapper object with keys [items, "
                   "total]; use `_data.items`"));
  }
  SUBCASE("records that are not objects") {
    const auto e = read_err(R"({"_data":[1,2]})", both_shapes());
    CHECK(contains(e.message, "data_selector `_data`: record 0 is a JSON number, not an object"));
  }
  SUBCASE("a body that is not an object") {
    const auto e = read_err(R"([{"id":1}])", both_shapes());
    CHECK(e.what == page_error::kind::not_object);
    CHECK(e.message ==
          "the body is a JSON array, not an object (data_selector `[_data.partialCollection, "
          "_data]`)");
  }
  SUBCASE("a total_path blocked elsewhere than by the records is still an error") {
    const page_spec spec(std::vector<std::string>{"_data.partialCollection", "_data"},
                         "meta.total");
    CHECK(read_err(R"({"_data":[{"id":1}],"meta":5})", spec).what == page_error::kind::bad_total);
    // And one selector keeps today's meaning: a total_path through the records is an error.
    CHECK(read_err(R"({"_data":[{"id":1}]})", page_spec("_data", "_data.totalCount")).what ==
          page_error::kind::bad_total);
  }
  SUBCASE("a list of one is the single selector") {
    const page_spec one(std::vector<std::string>{"_data"});
    CHECK(one.data_selector() == "_data");
    CHECK(read_err(R"({"_data":"x"})", one).message ==
          "data_selector `_data` landed on a JSON string, not on records");
    CHECK_THROWS_AS(page_spec(std::vector<std::string>{}), std::invalid_argument);
    CHECK_THROWS_AS(page_spec(std::vector<std::string>{"_data", "a..b"}), std::invalid_argument);
  }
}

#include "restsync/store/schema.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "restsync/paging/page.hpp"

using restsync::column_def;
using restsync::decide;
using restsync::infer;
using restsync::page;
using restsync::page_spec;
using restsync::pg_type;
using restsync::placement;
using restsync::row_text;
using restsync::table_schema;
using restsync::to_pg_text;

namespace {

// Records of a body given as a JSON array; the page keeps them alive.
page records(std::string array) {
  auto r = page::read(std::move(array), page_spec("$"));
  if (const auto* e = std::get_if<restsync::page_error>(&r)) FAIL(e->message);
  return std::move(std::get<page>(r));
}

// One JSON value, held by its page.
struct value {
  explicit value(std::string json) : p(records("[{\"v\":" + json + "}]")) {}
  const rapidjson::Value& operator*() const { return (*p.records()[0])["v"]; }
  page p;
};

std::optional<std::string> text(const std::string& json, pg_type target) {
  return to_pg_text(*value(json), target);
}

std::string jsonb(const std::string& json) { return *text(json, pg_type::jsonb); }

std::vector<std::string> names(const std::vector<column_def>& columns) {
  std::vector<std::string> out;
  for (const auto& c : columns) out.push_back(c.name);
  return out;
}

// Column name → cell text of a filled row ("NULL" for null).
std::string cell(const table_schema& s, const row_text& row, std::string_view column) {
  for (size_t i = 0; i < s.columns().size(); ++i) {
    if (s.columns()[i].name == column) return row[i] ? std::string(*row[i]) : "NULL";
  }
  FAIL("no column " << column);
  return {};
}

}  // namespace

TEST_CASE("infer") {
  CHECK_FALSE(infer(*value("null")));
  CHECK(infer(*value("true")) == pg_type::boolean);
  CHECK(infer(*value("false")) == pg_type::boolean);
  CHECK(infer(*value("0")) == pg_type::bigint);
  CHECK(infer(*value("-9223372036854775808")) == pg_type::bigint);
  CHECK(infer(*value("9223372036854775807")) == pg_type::bigint);
  CHECK(infer(*value("9223372036854775808")) == pg_type::numeric);
  CHECK(infer(*value("123456789012345678901234567890")) == pg_type::numeric);
  CHECK(infer(*value("-123456789012345678901234567890")) == pg_type::numeric);
  CHECK(infer(*value("1e-400")) == pg_type::numeric);
  CHECK(infer(*value("1.5")) == pg_type::double_precision);
  CHECK(infer(*value("1.0")) == pg_type::double_precision);
  CHECK(infer(*value("1e3")) == pg_type::double_precision);
  CHECK(infer(*value("33.333333333333339")) == pg_type::double_precision);  // verbatim
  CHECK(infer(*value("4.9e-324")) == pg_type::double_precision);
  CHECK(infer(*value("\"x\"")) == pg_type::text);
  CHECK(infer(*value("\"\"")) == pg_type::text);
  CHECK(infer(*value("\"123\"")) == pg_type::text);
  CHECK(infer(*value("{}")) == pg_type::jsonb);
  CHECK(infer(*value("[]")) == pg_type::jsonb);
  CHECK(infer(*value("[1,2]")) == pg_type::jsonb);
}

TEST_CASE("type names") {
  using restsync::parse_pg_type;
  using restsync::sql_name;
  using restsync::variant_tag;
  for (auto t : {pg_type::bigint, pg_type::numeric, pg_type::double_precision, pg_type::boolean,
                 pg_type::text, pg_type::jsonb}) {
    CHECK(parse_pg_type(sql_name(t)) == t);
  }
  CHECK(sql_name(pg_type::double_precision) == "double precision");
  CHECK(variant_tag(pg_type::double_precision) == "double");
  CHECK(variant_tag(pg_type::jsonb) == "jsonb");
  CHECK(parse_pg_type("int8") == pg_type::bigint);
  CHECK(parse_pg_type("float8") == pg_type::double_precision);
  CHECK(parse_pg_type("bool") == pg_type::boolean);
  CHECK_FALSE(parse_pg_type("integer"));
}

TEST_CASE("decide: a value of the column's type goes to the main column") {
  const placement main_bigint{pg_type::bigint, false};
  CHECK(decide(pg_type::bigint, *value("5")) == main_bigint);
  CHECK(decide(pg_type::text, *value("\"x\"")) == placement{pg_type::text, false});
  CHECK(decide(pg_type::boolean, *value("false")) == placement{pg_type::boolean, false});
  CHECK(decide(pg_type::jsonb, *value("[1]")) == placement{pg_type::jsonb, false});
  CHECK(decide(pg_type::double_precision, *value("0.5")) ==
        placement{pg_type::double_precision, false});
  CHECK(decide(pg_type::numeric, *value("99999999999999999999")) ==
        placement{pg_type::numeric, false});
  SUBCASE("null goes to the main column, as NULL, whatever its type") {
    for (auto t : {pg_type::bigint, pg_type::text, pg_type::jsonb, pg_type::boolean}) {
      CHECK(decide(t, *value("null")) == placement{t, false});
    }
  }
}

TEST_CASE("decide: values that fit exactly need no variant") {
  const placement dbl{pg_type::double_precision, false};
  CHECK(decide(pg_type::double_precision, *value("3")) == dbl);
  CHECK(decide(pg_type::double_precision, *value("-9007199254740992")) == dbl);
  CHECK(decide(pg_type::double_precision, *value("1152921504606846976")) == dbl);  // 2^60
  CHECK(decide(pg_type::double_precision, *value("9223372036854775808")) == dbl);  // 2^63
  CHECK(decide(pg_type::double_precision, *value("-9223372036854775808")) == dbl);

  const placement num{pg_type::numeric, false};
  CHECK(decide(pg_type::numeric, *value("5")) == num);
  CHECK(decide(pg_type::numeric, *value("-5")) == num);
  CHECK(decide(pg_type::numeric, *value("2.25")) == num);
  CHECK(decide(pg_type::numeric, *value("18446744073709551615")) == num);

  const placement js{pg_type::jsonb, false};
  for (const char* v : {"5", "\"x\"", "true", "1.5", "99999999999999999999"}) {
    CHECK(decide(pg_type::jsonb, *value(v)) == js);
  }
}

TEST_CASE("decide: anything else goes to a variant of its own type") {
  CHECK(decide(pg_type::bigint, *value("\"n/a\"")) == placement{pg_type::text, true});
  CHECK(decide(pg_type::bigint, *value("1.5")) == placement{pg_type::double_precision, true});
  CHECK(decide(pg_type::bigint, *value("2.0")) == placement{pg_type::double_precision, true});
  CHECK(decide(pg_type::bigint, *value("9223372036854775808")) ==
        placement{pg_type::numeric, true});
  CHECK(decide(pg_type::bigint, *value("-99999999999999999999")) ==
        placement{pg_type::numeric, true});
  CHECK(decide(pg_type::bigint, *value("true")) == placement{pg_type::boolean, true});
  CHECK(decide(pg_type::bigint, *value("{}")) == placement{pg_type::jsonb, true});
  CHECK(decide(pg_type::double_precision, *value("9007199254740993")) ==
        placement{pg_type::bigint, true});
  CHECK(decide(pg_type::double_precision, *value("18446744073709551615")) ==
        placement{pg_type::numeric, true});
  CHECK(decide(pg_type::double_precision, *value("99999999999999999999")) ==
        placement{pg_type::numeric, true});
  CHECK(decide(pg_type::text, *value("5")) == placement{pg_type::bigint, true});
  CHECK(decide(pg_type::text, *value("true")) == placement{pg_type::boolean, true});
  CHECK(decide(pg_type::text, *value("[\"a\"]")) == placement{pg_type::jsonb, true});
  CHECK(decide(pg_type::boolean, *value("1")) == placement{pg_type::bigint, true});
  CHECK(decide(pg_type::boolean, *value("\"true\"")) == placement{pg_type::text, true});
  CHECK(decide(pg_type::numeric, *value("\"1\"")) == placement{pg_type::text, true});
}

TEST_CASE("a verbatim double is a double, but for its text") {
  // 33.333333333333339 reads as the double 33.333333333333336 (page.hpp).
  const value v("33.333333333333339");
  REQUIRE(restsync::is_verbatim_double(*v));
  CHECK(infer(*v) == pg_type::double_precision);

  CHECK(decide(pg_type::double_precision, *v) == placement{pg_type::double_precision, false});
  CHECK(decide(pg_type::numeric, *v) == placement{pg_type::numeric, false});
  CHECK(decide(pg_type::jsonb, *v) == placement{pg_type::jsonb, false});
  for (auto t : {pg_type::bigint, pg_type::text, pg_type::boolean}) {
    CHECK(decide(t, *v) == placement{pg_type::double_precision, true});
  }

  // PostgreSQL reads the literal to the same double; numeric and jsonb keep
  // its digits, which differ from the double's shortest form.
  for (auto t : {pg_type::double_precision, pg_type::numeric, pg_type::jsonb}) {
    CHECK(to_pg_text(*v, t) == "33.333333333333339");
  }
  CHECK(text("0.10000000000000001", pg_type::double_precision) == "0.10000000000000001");
  CHECK(text("-1.00000000000000001e-5", pg_type::numeric) == "-1.00000000000000001e-5");
  CHECK(jsonb("4.9e-324") == "4.9e-324");
}

TEST_CASE("jsonb keeps verbatim doubles wherever they sit, and plain doubles as they were") {
  CHECK(
      jsonb(
          R"({"variations":{"partialCollection":[{"id":1,"percentSplit":33.333333333333339},{"id":2,"percentSplit":33.333333333333336},{"id":3,"percentSplit":33.33}]}})") ==
      R"({"variations":{"partialCollection":[{"id":1,"percentSplit":33.333333333333339},{"id":2,"percentSplit":33.333333333333336},{"id":3,"percentSplit":33.33}]}})");
  CHECK(jsonb("[[0.10000000000000001,[12345678901234567890123.5]]]") ==
        "[[0.10000000000000001,[12345678901234567890123.5]]]");
  // Another spelling of the shortest decimal is that decimal: jsonb compares
  // them equal as numerics, so they are written in the shortest form.
  CHECK(jsonb("[1.50,1e2,100.0,0.30000000000000004,1.5000000000000000000000,-0.0]") ==
        "[1.5,100,100,0.30000000000000004,1.5,-0]");
  // From 2^53 on, not the double's exact digits (53165205877497296), which
  // are another decimal.
  CHECK(jsonb("[5.31652058774973e16,9007199254740992.0,4503599627370497.5,1e300]") ==
        "[5.31652058774973e+16,9.007199254740992e+15,4503599627370497.5,1e+300]");
  CHECK(text("5.31652058774973e16", pg_type::double_precision) == "5.31652058774973e+16");
}

TEST_CASE("jsonb text has the value of the literal, double precision text its double") {
  // A number literal's decimal value as its significant digits and the power
  // of ten of the first: `-0.0250e2` is "-25e0".
  const auto canonical = [](std::string_view n) {
    std::string sign;
    if (n.starts_with('-')) {
      sign = "-";
      n.remove_prefix(1);
    }
    const auto e = n.find_first_of("eE");
    long exponent = e == std::string_view::npos ? 0 : std::stol(std::string(n.substr(e + 1)));
    auto mantissa = std::string(n.substr(0, e));
    const auto dot = mantissa.find('.');
    const auto integer_digits = static_cast<long>(dot == std::string::npos ? mantissa.size() : dot);
    if (dot != std::string::npos) mantissa.erase(dot, 1);
    const auto first = mantissa.find_first_not_of('0');
    if (first == std::string::npos) return std::string("0");
    const auto last = mantissa.find_last_not_of('0');
    exponent += integer_digits - 1 - static_cast<long>(first);
    return sign + mantissa.substr(first, last - first + 1) + "e" + std::to_string(exponent);
  };
  CHECK(canonical("-0.0250e2") == "-25e0");
  CHECK(canonical("1200") == "12e3");

  std::mt19937_64 random(7);
  for (int i = 0; i < 6000; ++i) {
    const auto bits = random();
    double d = 0;
    std::memcpy(&d, &bits, sizeof d);
    // Every other one around 2^53, where doubles become integers.
    if (i % 2 == 1) d = std::ldexp(static_cast<double>(bits >> 11), i % 40 - 20);
    if (!std::isfinite(d)) continue;
    CAPTURE(d);
    for (const auto& literal :
         {fmt::format("{:e}", d), fmt::format("{:.14e}", d), fmt::format("{:.15e}", d),
          fmt::format("{:.16e}", d), fmt::format("{:.20e}", d), fmt::format("{:.17g}", d)}) {
      CAPTURE(literal);
      const value v(literal);
      const auto json = jsonb(literal);
      CHECK(canonical(json) == canonical(literal));
      const auto dbl = *to_pg_text(*v, pg_type::double_precision);
      double back = 0;
      std::from_chars(dbl.data(), dbl.data() + dbl.size(), back);
      CHECK(back == std::strtod(literal.c_str(), nullptr));
    }
  }
}

TEST_CASE("to_pg_text: scalars") {
  CHECK_FALSE(text("null", pg_type::text));
  CHECK(text("true", pg_type::boolean) == "true");
  CHECK(text("false", pg_type::boolean) == "false");
  CHECK(text("0", pg_type::bigint) == "0");
  CHECK(text("-42", pg_type::bigint) == "-42");
  CHECK(text("9223372036854775807", pg_type::bigint) == "9223372036854775807");
  CHECK(text("-9223372036854775808", pg_type::bigint) == "-9223372036854775808");
  CHECK(text("18446744073709551615", pg_type::numeric) == "18446744073709551615");
  CHECK(text("123456789012345678901234567890123456789", pg_type::numeric) ==
        "123456789012345678901234567890123456789");
  CHECK(text("-98765432109876543210987654321", pg_type::numeric) ==
        "-98765432109876543210987654321");
  CHECK(text("1.5", pg_type::double_precision) == "1.5");
  CHECK(text("0.1", pg_type::double_precision) == "0.1");
  CHECK(text("3.141592653589793", pg_type::double_precision) == "3.141592653589793");
  CHECK(text("1e300", pg_type::double_precision) == "1e+300");
  CHECK(text("5e-324", pg_type::double_precision) == "5e-324");
  CHECK(text("-0.0", pg_type::double_precision) == "-0");
  CHECK(text("2.0", pg_type::double_precision) == "2");
  CHECK(text("9007199254740992", pg_type::double_precision) == "9007199254740992");
  CHECK(text("2.25", pg_type::numeric) == "2.25");
  CHECK(text("1e-400", pg_type::numeric) == "1e-400");
  CHECK(jsonb("[1e-400,-1.8e308]") == "[1e-400,-1.8e308]");
}

TEST_CASE("to_pg_text: strings go as they are") {
  CHECK(text(R"("plain")", pg_type::text) == "plain");
  CHECK(text(R"("")", pg_type::text) == "");
  CHECK(text(R"("it's \"quoted\", with \\ and\nnewlines\ttabs")", pg_type::text) ==
        "it's \"quoted\", with \\ and\nnewlines\ttabs");
  CHECK(text(R"("<script>alert('x')</script>")", pg_type::text) == "<script>alert('x')</script>");
  CHECK(text(R"("Zoë 日本 😀 \u00e9")", pg_type::text) == "Zoë 日本 😀 é");
  CHECK(text(R"("123")", pg_type::text) == "123");
  CHECK(text(R"("'; DROP TABLE x; --")", pg_type::text) == "'; DROP TABLE x; --");
}

TEST_CASE("to_pg_text: NUL and lone surrogates become their escape text") {
  CHECK(text(R"("a\u0000b")", pg_type::text) == "a\\u0000b");
  CHECK(text(R"("\u0000")", pg_type::text) == "\\u0000");
  CHECK(text(R"("\u0000\u0000x\u0000")", pg_type::text) == "\\u0000\\u0000x\\u0000");
  CHECK(text(R"("x\udc00y")", pg_type::text) == "x\\udc00y");
  CHECK(text(R"("\udfff")", pg_type::text) == "\\udfff");
  // The high half alike: an emoji cut to its first code unit.
  CHECK(text(R"("x\ud83dy")", pg_type::text) == "x\\ud83dy");
  CHECK(text(R"("\ud800\udbff")", pg_type::text) == "\\ud800\\udbff");
  CHECK(jsonb(R"(["\ud83d"])") == R"(["\\ud83d"])");
  // A paired surrogate is one character and stays as it is.
  CHECK(text(R"("\ud83d\ude00")", pg_type::text) == "😀");
  // U+D7FF and U+E000 are ordinary characters next to the surrogate range.
  CHECK(text(R"("\ud7ff\ue000")", pg_type::text) == "\xed\x9f\xbf\xee\x80\x80");

  CHECK(jsonb(R"("a\u0000b")") == R"("a\\u0000b")");
  CHECK(jsonb(R"({"k\u0000":"v\u0000"})") == R"({"k\\u0000":"v\\u0000"})");
  CHECK(jsonb(R"(["x\udc00y"])") == R"(["x\\udc00y"])");
  CHECK(jsonb(R"(["\ud83d\ude00"])") == "[\"😀\"]");
}

TEST_CASE("to_pg_text: jsonb is compact JSON that reads back the same") {
  CHECK(jsonb("{}") == "{}");
  CHECK(jsonb("[]") == "[]");
  CHECK(jsonb(R"( { "a" : [ 1 , "x\"y" , null , true , false , { "b" : -2.5 } ] } )") ==
        R"({"a":[1,"x\"y",null,true,false,{"b":-2.5}]})");
  CHECK(jsonb(R"({"big":123456789012345678901234567890,"neg":[-99999999999999999999]})") ==
        R"({"big":123456789012345678901234567890,"neg":[-99999999999999999999]})");
  CHECK(jsonb(R"(["\n\r\t\b\f\/\\\u0001\u001f\u007f"])") ==
        "[\"\\n\\r\\t\\b\\f/\\\\\\u0001\\u001f\x7f\"]");
  CHECK(jsonb(R"({"Zoë":"日本😀"})") == R"({"Zoë":"日本😀"})");
  CHECK(jsonb(R"({"a":1,"a":2})") == R"({"a":1,"a":2})");
  // Scalars in a jsonb column keep their JSON type.
  CHECK(jsonb(R"("text")") == R"("text")");
  CHECK(jsonb("5") == "5");
  CHECK(jsonb("true") == "true");
  CHECK_FALSE(text("null", pg_type::jsonb));

  const std::string doc =
      R"({"campaign":{"id":7,"name":"A \"B\"","goals":{"offset":0,"totalCount":2,"partialCollection":[{"id":1,"isPrimary":true},{"id":2,"isPrimary":false}]},"stats":{"rate":0.125,"n":18446744073709551615}},"when":1700000000})";
  const auto once = jsonb(doc);
  const value reread(once);
  CHECK(*reread == *value(doc));
  CHECK(jsonb(once) == once);
}

TEST_CASE("append_pg_text appends and reports null") {
  std::string out = "prefix:";
  CHECK(restsync::append_pg_text(out, *value("12"), pg_type::bigint));
  CHECK_FALSE(restsync::append_pg_text(out, *value("null"), pg_type::bigint));
  CHECK(out == "prefix:12");
}

TEST_CASE("plan: one column per field, typed by its first non-null value, in order seen") {
  const auto p = records(
      R"([{"id":1,"createdOn":1700000000,"name":"a","isActive":true,"nothing":null},
          {"id":2,"name":null,"createdBy":{"id":3,"name":"x"},"labels":[{"id":1}],"rate":0.5,"nothing":null},
          {"id":3,"big":99999999999999999999,"nothing":null}])");
  table_schema s;
  const auto added = s.plan(p.records());
  CHECK(names(added) == std::vector<std::string>{"id", "created_on", "name", "is_active",
                                                 "created_by", "labels", "rate", "big"});
  REQUIRE(added.size() == 8);
  CHECK(added[0] == column_def{"id", pg_type::bigint, "id", false});
  CHECK(added[1] == column_def{"created_on", pg_type::bigint, "createdOn", false});
  CHECK(added[2].type == pg_type::text);
  CHECK(added[3].type == pg_type::boolean);
  CHECK(added[4].type == pg_type::jsonb);
  CHECK(added[5].type == pg_type::jsonb);
  CHECK(added[6].type == pg_type::double_precision);
  CHECK(added[7].type == pg_type::numeric);
  CHECK(s.columns() == added);
  CHECK(s.plan(p.records()).empty());
  CHECK(s.main_column("nothing") == -1);
  CHECK(s.main_column("createdOn") == 1);

  row_text row;
  s.fill_row(*p.records()[1], row);
  REQUIRE(row.size() == 8);
  CHECK(cell(s, row, "id") == "2");
  CHECK(cell(s, row, "name") == "NULL");
  CHECK(cell(s, row, "created_on") == "NULL");
  CHECK(cell(s, row, "created_by") == R"({"id":3,"name":"x"})");
  CHECK(cell(s, row, "labels") == R"([{"id":1}])");
  CHECK(cell(s, row, "rate") == "0.5");
  s.fill_row(*p.records()[2], row);
  CHECK(cell(s, row, "big") == "99999999999999999999");
  CHECK(cell(s, row, "created_by") == "NULL");
  CHECK(cell(s, row, "labels") == "NULL");
}

TEST_CASE("a field of verbatim and plain doubles has one double precision column") {
  const auto p = records(
      R"([{"split":33.333333333333339,"stats":{"rate":0.10000000000000001}},{"split":50.5,"stats":{"rate":0.25}},{"split":7}])");
  table_schema s;
  const auto added = s.plan(p.records());
  CHECK(added == std::vector<column_def>{{"split", pg_type::double_precision, "split", false},
                                         {"stats", pg_type::jsonb, "stats", false}});
  row_text row;
  s.fill_row(*p.records()[0], row);
  CHECK(cell(s, row, "split") == "33.333333333333339");
  CHECK(cell(s, row, "stats") == R"({"rate":0.10000000000000001})");
  s.fill_row(*p.records()[1], row);
  CHECK(cell(s, row, "split") == "50.5");
  CHECK(cell(s, row, "stats") == R"({"rate":0.25})");
  s.fill_row(*p.records()[2], row);
  CHECK(cell(s, row, "split") == "7");

  // Planned after a bigint, it goes to the double variant like any double.
  const auto q = records(R"([{"n":1},{"n":0.10000000000000001}])");
  table_schema t;
  CHECK(names(t.plan(q.records())) == std::vector<std::string>{"n", "n__v_double"});
  t.fill_row(*q.records()[1], row);
  CHECK(cell(t, row, "n__v_double") == "0.10000000000000001");
  CHECK(cell(t, row, "n") == "NULL");
}

TEST_CASE("a field seen only as null gets its column when a value comes") {
  table_schema s;
  CHECK(s.plan(records(R"([{"id":1,"phone":null}])").records()).size() == 1);
  const auto later = records(R"([{"id":2,"phone":"+1 555"}])");
  const auto added = s.plan(later.records());
  REQUIRE(added.size() == 1);
  CHECK(added[0] == column_def{"phone", pg_type::text, "phone", false});
}

TEST_CASE("a field whose type changes across pages: int, then string, then object, ...") {
  table_schema s;
  row_text row;
  const std::vector<std::pair<std::string, std::string>> pages = {
      {R"([{"id":1,"score":5}])", ""},
      {R"([{"id":2,"score":"n/a"}])", "score__v_text"},
      {R"([{"id":3,"score":{"a":1}}])", "score__v_jsonb"},
      {R"([{"id":4,"score":2.5}])", "score__v_double"},
      {R"([{"id":5,"score":99999999999999999999}])", "score__v_numeric"},
      {R"([{"id":6,"score":true}])", "score__v_boolean"},
      {R"([{"id":7,"score":7}])", ""},
      {R"([{"id":8,"score":"again"}])", ""},
  };
  for (const auto& [body, new_column] : pages) {
    CAPTURE(body);
    const auto p = records(body);
    const auto added = s.plan(p.records());
    if (new_column.empty()) {
      CHECK((added.empty() || added[0].name == "id"));
    } else {
      REQUIRE(added.size() == 1);
      CHECK(added[0].name == new_column);
      CHECK(added[0].variant);
      CHECK(added[0].field == "score");
    }
  }
  CHECK(s.columns()[1] == column_def{"score", pg_type::bigint, "score", false});
  CHECK(s.columns()[2] == column_def{"score__v_text", pg_type::text, "score", true});
  CHECK(s.columns()[4] == column_def{"score__v_double", pg_type::double_precision, "score", true});

  const auto fill = [&](const std::string& body) {
    const auto p = records(body);
    s.fill_row(*p.records()[0], row);
    std::vector<std::string> cells;
    for (size_t i = 0; i < row.size(); ++i) cells.push_back(row[i] ? std::string(*row[i]) : "-");
    return cells;
  };
  using cells = std::vector<std::string>;
  // id, score, __v_text, __v_jsonb, __v_double, __v_numeric, __v_boolean
  CHECK(fill(R"([{"id":1,"score":5}])") == cells{"1", "5", "-", "-", "-", "-", "-"});
  CHECK(fill(R"([{"id":2,"score":"n/a"}])") == cells{"2", "-", "n/a", "-", "-", "-", "-"});
  CHECK(fill(R"([{"id":3,"score":{"a":1}}])") == cells{"3", "-", "-", R"({"a":1})", "-", "-", "-"});
  CHECK(fill(R"([{"id":4,"score":2.5}])") == cells{"4", "-", "-", "-", "2.5", "-", "-"});
  CHECK(fill(R"([{"id":5,"score":99999999999999999999}])") ==
        cells{"5", "-", "-", "-", "-", "99999999999999999999", "-"});
  CHECK(fill(R"([{"id":6,"score":true}])") == cells{"6", "-", "-", "-", "-", "-", "true"});
  CHECK(fill(R"([{"id":7,"score":null}])") == cells{"7", "-", "-", "-", "-", "-", "-"});
  CHECK(fill(R"([{"id":8}])") == cells{"8", "-", "-", "-", "-", "-", "-"});
}

TEST_CASE("types change within one batch too") {
  const auto p = records(R"([{"v":1},{"v":"x"},{"v":2},{"v":[1]}])");
  table_schema s;
  CHECK(names(s.plan(p.records())) == std::vector<std::string>{"v", "v__v_text", "v__v_jsonb"});
}

TEST_CASE("fields that snake_case alike get their own columns") {
  const auto p = records(
      R"([{"createdOn":1,"created_on":"x","Name":"a","name":"b","xmin":5,"_rs_synced_at":"t"}])");
  table_schema s;
  CHECK(names(s.plan(p.records())) == std::vector<std::string>{"created_on", "created_on_2", "name",
                                                               "name_2", "xmin_2", "rs_synced_at"});
  row_text row;
  s.fill_row(*p.records()[0], row);
  CHECK(cell(s, row, "created_on") == "1");
  CHECK(cell(s, row, "created_on_2") == "x");
  CHECK(cell(s, row, "name_2") == "b");
  CHECK(cell(s, row, "rs_synced_at") == "t");
}

TEST_CASE("plan order is stable, and a reloaded schema plans and fills the same") {
  const std::string body =
      R"([{"id":1,"b":true,"a":"x","nested":{"k":[1,2]}},{"a":5,"c":1.5,"id":"s"},{"d":null,"e":"é"}])";
  const auto p = records(body);
  table_schema one;
  table_schema two;
  const auto plan_one = one.plan(p.records());
  CHECK(plan_one == two.plan(p.records()));
  CHECK(names(plan_one) ==
        std::vector<std::string>{"id", "b", "a", "nested", "a__v_bigint", "c", "id__v_text", "e"});

  table_schema reloaded(one.columns(), {"_rs_synced_at", "_rs_deleted_at"});
  CHECK(reloaded.columns() == one.columns());
  CHECK(reloaded.plan(p.records()).empty());
  row_text r1;
  row_text r2;
  for (const auto* rec : p.records()) {
    one.fill_row(*rec, r1);
    reloaded.fill_row(*rec, r2);
    REQUIRE(r1.size() == r2.size());
    for (size_t i = 0; i < r1.size(); ++i) CHECK(r1[i] == r2[i]);
  }
  const auto more = records(R"([{"f":1,"a":[]}])");
  CHECK(one.plan(more.records()) == reloaded.plan(more.records()));
}

TEST_CASE("an existing table's column types rule") {
  table_schema s({{"id", pg_type::text, "id", false},
                  {"score", pg_type::double_precision, "score", false},
                  {"legacy_name", pg_type::text, "name", false}},
                 {"name"});
  const auto p = records(R"([{"id":"a","score":3,"name":"n","other":1},{"id":5,"score":"x"}])");
  const auto added = s.plan(p.records());
  CHECK(names(added) == std::vector<std::string>{"other", "id__v_bigint", "score__v_text"});
  row_text row;
  s.fill_row(*p.records()[0], row);
  CHECK(cell(s, row, "score") == "3");
  CHECK(cell(s, row, "legacy_name") == "n");
  s.fill_row(*p.records()[1], row);
  CHECK(cell(s, row, "id") == "NULL");
  CHECK(cell(s, row, "id__v_bigint") == "5");
}

TEST_CASE("an inconsistent existing schema is refused") {
  CHECK_THROWS_AS(
      table_schema({{"a", pg_type::text, "a", false}, {"a", pg_type::bigint, "b", false}}),
      std::invalid_argument);
  CHECK_THROWS_AS(table_schema({{"a__v_text", pg_type::text, "a", true}}), std::invalid_argument);
  CHECK_THROWS_AS(
      table_schema({{"a", pg_type::text, "a", false}, {"a__v_text", pg_type::text, "a", true}}),
      std::invalid_argument);
}

TEST_CASE("fill_row refuses a value that has no column") {
  table_schema s;
  const auto p = records(R"([{"a":1},{"a":"x","b":2}])");
  s.plan(*p.records()[0]);
  row_text row;
  CHECK_NOTHROW(s.fill_row(*p.records()[0], row));
  CHECK_THROWS_AS(s.fill_row(*p.records()[1], row), std::logic_error);
}

TEST_CASE("fill_row follows each record's own key order") {
  const auto p = records(
      R"([{"a":1,"b":"x","c":true},{"c":false,"a":2,"b":"y"},{"b":"z"},{"x":1,"a":3},{"a":4,"b":"w","c":null}])");
  table_schema s;
  s.plan(p.records());
  row_text row;
  const auto abc = [&](size_t i) {
    s.fill_row(*p.records()[i], row);
    return cell(s, row, "a") + "|" + cell(s, row, "b") + "|" + cell(s, row, "c") + "|" +
           cell(s, row, "x");
  };
  CHECK(abc(0) == "1|x|true|NULL");
  CHECK(abc(1) == "2|y|false|NULL");
  CHECK(abc(2) == "NULL|z|NULL|NULL");
  CHECK(abc(3) == "3|NULL|NULL|1");
  CHECK(abc(4) == "4|w|NULL|NULL");
  CHECK(abc(0) == "1|x|true|NULL");
}

TEST_CASE("a key given twice in a record keeps both values") {
  const auto p = records(R"([{"a":1,"a":"x"}])");
  table_schema s;
  CHECK(names(s.plan(p.records())) == std::vector<std::string>{"a", "a__v_text"});
  row_text row;
  s.fill_row(*p.records()[0], row);
  CHECK(cell(s, row, "a") == "1");
  CHECK(cell(s, row, "a__v_text") == "x");
}

TEST_CASE("unicode field names and values") {
  const auto p =
      records(R"([{"名前":"日本","caféName":"Zoë","emoji😀":"\ud83d\ude00","nul":"a\u0000b"}])");
  table_schema s;
  CHECK(names(s.plan(p.records())) ==
        std::vector<std::string>{"名前", "café_name", "emoji😀", "nul"});
  row_text row;
  s.fill_row(*p.records()[0], row);
  CHECK(cell(s, row, "名前") == "日本");
  CHECK(cell(s, row, "café_name") == "Zoë");
  CHECK(cell(s, row, "emoji😀") == "😀");
  CHECK(cell(s, row, "nul") == "a\\u0000b");
}

TEST_CASE("a schema is a value: a copy planned on leaves the original alone") {
  table_schema s;
  s.plan(records(R"([{"a":1}])").records());
  auto next = s;
  const auto p = records(R"([{"a":"x","b":2}])");
  CHECK(next.plan(p.records()).size() == 2);
  CHECK(s.columns().size() == 1);
  CHECK(s.names().all().size() == 1);
  CHECK(s.plan(p.records()).size() == 2);
  CHECK(s.columns() == next.columns());
}

TEST_CASE("the campaigns record shape") {
  const auto p = records(R"([{
    "id":12,"createdOn":1700000000,"primaryGoal":3,"type":"VISUAL_AB","name":"Homepage",
    "platform":"website","status":"RUNNING","isApprovalPending":false,"isBayesian":true,
    "isDeleted":false,"createdBy":{"id":1,"name":"Ann","imageUrl":null},
    "labels":[{"id":1,"name":"q1"}],
    "goals":{"offset":0,"totalCount":1,"partialCollection":[{"id":3,"name":"g","type":"CUSTOM","isPrimary":true}]},
    "variations":{"totalCount":0,"partialCollection":[]},"stats":{"visitors":10,"rate":0.1,"winner":null},
    "associatedCampaign":[],"campaignGroup":[]}])");
  table_schema s;
  const auto added = s.plan(p.records());
  CHECK(names(added) == std::vector<std::string>{"id", "created_on", "primary_goal", "type", "name",
                                                 "platform", "status", "is_approval_pending",
                                                 "is_bayesian", "is_deleted", "created_by",
                                                 "labels", "goals", "variations", "stats",
                                                 "associated_campaign", "campaign_group"});
  row_text row;
  s.fill_row(*p.records()[0], row);
  CHECK(
      cell(s, row, "goals") ==
      R"({"offset":0,"totalCount":1,"partialCollection":[{"id":3,"name":"g","type":"CUSTOM","isPrimary":true}]})");
  CHECK(cell(s, row, "associated_campaign") == "[]");
  CHECK(cell(s, row, "is_bayesian") == "true");
}

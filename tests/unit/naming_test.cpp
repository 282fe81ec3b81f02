#include "restsync/store/naming.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using restsync::column_assignment;
using restsync::column_map;
using restsync::column_name;
using restsync::field_label;
using restsync::field_labels;
using restsync::fit_identifier;
using restsync::max_field_label_bytes;
using restsync::max_identifier_bytes;
using restsync::quote_ident;
using restsync::quote_literal;
using restsync::snake_case;

namespace {

// As PostgreSQL checks text: no overlong forms, no surrogates, nothing
// beyond U+10FFFF.
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = cp << 6 | (b & 0x3F);
    }
    constexpr uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

}  // namespace

TEST_CASE("snake_case") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"createdOn", "created_on"},
      {"isGaPremium", "is_ga_premium"},
      {"HTMLParser", "html_parser"},
      {"appPlatform", "app_platform"},
      {"imageUrl", "image_url"},
      {"lastLogin", "last_login"},
      {"isMainAccount", "is_main_account"},
      {"user-id", "user_id"},
      {"user id", "user_id"},
      {"user.id", "user_id"},
      {"  user  id  ", "user_id"},
      {"--a--b--", "a_b"},
      {"a__b", "a_b"},
      {"a_-_b", "a_b"},
      {"trailing_", "trailing"},
      {"goal2Id", "goal2_id"},
      {"goal2", "goal2"},
      {"2FA", "2_fa"},
      {"ID", "id"},
      {"id", "id"},
      {"Name", "name"},
      {"userID", "user_id"},
      {"MyHTTPServer2Go", "my_http_server2_go"},
      {"already_snake", "already_snake"},
      {"_id", "_id"},
      {"__id", "_id"},
      {"_Id", "_id"},
      {"-id", "id"},
      {"_rs_synced_at", "_rs_synced_at"},
      {"", "_"},
      {"_", "_"},
      {"---", "_"},
      {"café", "café"},
      {"caféName", "café_name"},
      {"Ünïcode", "Ünïcode"},
      {"名前", "名前"},
      {"emoji😀Field", "emoji😀_field"},
      {std::string("a\0b", 3), "a_b"},
      {"a\tb\nc", "a_b_c"},
      {"x\xed\xb0\x80y", "x_y"},
      {"x\xed\xa0\xbdy", "x_y"},
      // Not UTF-8 at all: each bad byte separates words, as PostgreSQL
      // would refuse it in a name.
      {"a\xff"
       "b",
       "a_b"},
      {"\xc3", "_"},
      {"a\xc0\x80"
       "b",
       "a_b"},
      {"\xf4\x90\x80\x80x", "x"},
      {"é\xa9", "é"},
      {"quote\"d", "quote_d"},
  };
  for (const auto& [field, expected] : cases) {
    CAPTURE(field);
    CHECK(snake_case(field) == expected);
  }
}

TEST_CASE("snake_case never yields `__`, a trailing `_` or a NUL") {
  std::mt19937 rng(7);
  const std::string alphabet = "aB_- .9Z\0\xc3\xa9";
  for (int i = 0; i < 5000; ++i) {
    std::string field;
    const auto n = rng() % 12;
    for (unsigned k = 0; k < n; ++k) field += alphabet[rng() % alphabet.size()];
    const auto s = snake_case(field);
    CAPTURE(field);
    CHECK(s.find("__") == std::string::npos);
    CHECK(s.find('\0') == std::string::npos);
    CHECK((s == "_" || s.back() != '_'));
    CHECK(snake_case(s) == s);
  }
}

TEST_CASE("any bytes give a column name PostgreSQL takes: valid UTF-8, no NUL, 63 bytes") {
  std::mt19937 rng(11);
  for (int i = 0; i < 5000; ++i) {
    std::string field(rng() % 300, '\0');
    for (auto& c : field) c = static_cast<char>(rng());
    CAPTURE(field);
    const auto column = column_name(field);
    CHECK(valid_utf8(column));
    CHECK(column.find('\0') == std::string::npos);
    CHECK(!column.empty());
    CHECK(column.size() <= max_identifier_bytes);
  }
  CHECK(column_name(std::string(100'000, '\xff')) == "_");
}

TEST_CASE("fit_identifier keeps names within 63 bytes, distinct and stable") {
  const std::string exact(63, 'a');
  CHECK(fit_identifier(exact) == exact);
  CHECK(fit_identifier("created_on") == "created_on");

  const std::string a = std::string(80, 'x') + "_first";
  const std::string b = std::string(80, 'x') + "_second";
  const auto fa = fit_identifier(a);
  const auto fb = fit_identifier(b);
  CHECK(fa.size() <= max_identifier_bytes);
  CHECK(fb.size() <= max_identifier_bytes);
  CHECK(fa != fb);
  CHECK(fa.starts_with(std::string(54, 'x')));
  CHECK(fit_identifier(a) == fa);
  // Pinned: the hash is part of the persisted schema and must never change.
  CHECK(fit_identifier(std::string(64, 'a')) == std::string(54, 'a') + "_285ec3ac");

  SUBCASE("cut on a character boundary") {
    std::string long_name;
    for (int i = 0; i < 40; ++i) long_name += "é";
    for (int extra = 0; extra < 4; ++extra) {
      const auto f = fit_identifier(std::string(static_cast<size_t>(extra), 'q') + long_name);
      CHECK(f.size() <= max_identifier_bytes);
      CHECK(valid_utf8(f));
    }
    std::string emoji;
    for (int i = 0; i < 20; ++i) emoji += "😀";
    CHECK(valid_utf8(fit_identifier(emoji)));
  }
  SUBCASE("no `__` where the cut meets the hash") {
    const auto f = fit_identifier(std::string(53, 'a') + "_" + std::string(20, 'b'));
    CHECK(f.find("__") == std::string::npos);
  }
  CHECK(column_name("someVeryLongFieldNameThatGoesOnAndOnAndOnBeyondTheLimitOfPostgres") ==
        fit_identifier(
            "some_very_long_field_name_that_goes_on_and_on_and_on_beyond_the_limit_of_postgres"));
}

TEST_CASE("reserved column names") {
  using restsync::is_reserved_column;
  CHECK(is_reserved_column("_rs_synced_at"));
  CHECK(is_reserved_column("_rs_deleted_at"));
  CHECK(is_reserved_column("_rs_anything_later"));
  for (const char* s : {"ctid", "xmin", "xmax", "cmin", "cmax", "tableoid"}) {
    CHECK(is_reserved_column(s));
  }
  CHECK_FALSE(is_reserved_column("rs_synced_at"));
  CHECK_FALSE(is_reserved_column("_rs"));
  CHECK_FALSE(is_reserved_column("oid"));
  CHECK_FALSE(is_reserved_column("id"));
}

TEST_CASE("quote_ident and quote_literal") {
  CHECK(quote_ident("created_on") == "\"created_on\"");
  CHECK(quote_ident("a\"b") == "\"a\"\"b\"");
  CHECK(quote_ident("\"") == "\"\"\"\"");
  CHECK(quote_ident("Zoë table") == "\"Zoë table\"");
  CHECK(quote_ident("select") == "\"select\"");
  CHECK_THROWS_AS(quote_ident(""), std::invalid_argument);
  CHECK_THROWS_AS(quote_ident(std::string("a\0b", 3)), std::invalid_argument);

  CHECK(quote_literal("plain") == "'plain'");
  CHECK(quote_literal("it's") == "'it''s'");
  CHECK(quote_literal("") == "''");
  CHECK(quote_literal("a\\b'c") == "E'a\\\\b''c'");
  CHECK_THROWS_AS(quote_literal(std::string("a\0b", 3)), std::invalid_argument);
}

TEST_CASE("column_map gives each field its own column, first come first served") {
  column_map m;
  CHECK(m.assign("createdOn").column == "created_on");
  CHECK(m.assign("created_on").column == "created_on_2");
  CHECK(m.assign("CreatedOn").column == "created_on_3");
  CHECK(m.assign("Name").column == "name");
  CHECK(m.assign("name").column == "name_2");
  CHECK(m.assign("createdOn").column == "created_on");
  CHECK(m.assign("id").column == "id");
  // A field that happens to be named like a suffixed column.
  CHECK(m.assign("name_2").column == "name_2_2");
  CHECK(m.find("createdOn")->column == "created_on");
  CHECK(m.find("nope") == nullptr);
  CHECK(m.is_taken("created_on_2"));
  CHECK_FALSE(m.is_taken("created_on_4"));
}

TEST_CASE("reserved names never go to data fields") {
  column_map m;
  CHECK(m.assign("_rs_synced_at").column == "rs_synced_at");
  CHECK(m.assign("rs_synced_at").column == "rs_synced_at_2");
  CHECK(m.assign("_rs_deleted_at").column == "rs_deleted_at");
  CHECK(m.assign("_RS_Custom").column == "rs_custom");
  CHECK(m.assign("xmin").column == "xmin_2");
  CHECK(m.assign("ctid").column == "ctid_2");
  CHECK(m.assign("_id").column == "_id");
  CHECK(m.assign("").column == "_");
  CHECK(m.assign("---").column == "_2");
  for (const auto& e : m.all()) CHECK_FALSE(restsync::is_reserved_column(e.column));
}

TEST_CASE("collision suffixes and truncation stay within 63 bytes") {
  column_map m;
  const std::string base(70, 'v');
  const auto& first = m.assign(base + "A");
  const auto& second = m.assign(base + "B");
  CHECK(first.column.size() <= max_identifier_bytes);
  CHECK(second.column.size() <= max_identifier_bytes);
  CHECK(first.column != second.column);

  // A field literally named like another field's truncated column.
  const auto truncated = first.column;
  const auto& third = m.assign(truncated);
  CHECK(third.column != truncated);
  CHECK(third.column.size() <= max_identifier_bytes);
  CHECK(third.column.ends_with("_2"));

  const std::string exact(63, 'k');
  CHECK(m.assign(exact).column == exact);
  const auto& k2 = m.assign(exact + "-");
  CHECK(k2.column == std::string(61, 'k') + "_2");

  std::set<std::string> columns;
  for (const auto& e : m.all()) {
    CHECK(columns.insert(e.column).second);
    CHECK(e.column.size() <= max_identifier_bytes);
  }
}

TEST_CASE("variant columns") {
  column_map m;
  m.assign("score");
  CHECK(m.assign("score", "text").column == "score__v_text");
  CHECK(m.assign("score", "jsonb").column == "score__v_jsonb");
  CHECK(m.assign("score", "text").column == "score__v_text");
  CHECK(m.find("score", "text")->variant == "text");
  CHECK(m.find("score", "bigint") == nullptr);
  CHECK_THROWS_AS(m.assign("other", "text"), std::logic_error);

  SUBCASE("a long column's variant keeps its tag and stays unique") {
    const std::string long_field(70, 'w');
    m.assign(long_field);
    m.assign(long_field + "x");
    const auto a = m.assign(long_field, "double").column;
    const auto b = m.assign(long_field + "x", "double").column;
    CHECK(a.size() <= max_identifier_bytes);
    CHECK(a.ends_with("__v_double"));
    CHECK(b.ends_with("__v_double"));
    CHECK(a != b);
  }
  SUBCASE("data columns never look like variants") {
    CHECK(m.assign("score__v_text").column == "score_v_text");
  }
}

TEST_CASE("the same fields in the same order give the same columns") {
  const std::vector<std::string> fields = {"id",   "createdOn", "created_on", "Name", "name",
                                           "xmin", "_rs_x",     "a b",        "a-b",  "a_b"};
  column_map one;
  column_map two;
  for (const auto& f : fields) CHECK(one.assign(f).column == two.assign(f).column);
}

TEST_CASE("reloading the persisted mapping gives the same columns") {
  column_map first;
  first.assign("created_on");
  first.assign("createdOn");
  first.assign("score");
  first.assign("score", "text");
  const auto saved = first.fresh();
  REQUIRE(saved.size() == 4);
  CHECK(saved[1] == column_assignment{"createdOn", "", "created_on_2"});
  CHECK(saved[3] == column_assignment{"score", "text", "score__v_text"});

  column_map reloaded(saved);
  CHECK(reloaded.fresh().empty());
  // Order of first sight is persisted: a fresh map seeing createdOn first
  // would give it `created_on`, the reloaded one never does.
  CHECK(reloaded.assign("createdOn").column == "created_on_2");
  CHECK(reloaded.assign("created_on").column == "created_on");
  CHECK(reloaded.assign("score", "text").column == "score__v_text");
  CHECK(reloaded.fresh().empty());

  CHECK(reloaded.assign("CREATED_ON").column == first.assign("CREATED_ON").column);
  REQUIRE(reloaded.fresh().size() == 1);
  CHECK(reloaded.fresh()[0] == column_assignment{"CREATED_ON", "", "created_on_3"});
  reloaded.mark_persisted();
  CHECK(reloaded.fresh().empty());
  CHECK(reloaded.all().size() == 5);
}

TEST_CASE("a persisted mapping is checked") {
  using v = std::vector<column_assignment>;
  CHECK_THROWS_AS(column_map(v{{"a", "", "a"}, {"b", "", "a"}}), std::invalid_argument);
  CHECK_THROWS_AS(column_map(v{{"a", "", "a"}, {"a", "", "b"}}), std::invalid_argument);
  CHECK_THROWS_AS(column_map(v{{"a", "", "_rs_synced_at"}}), std::invalid_argument);
  CHECK_THROWS_AS(column_map(v{{"a", "", std::string(64, 'a')}}), std::invalid_argument);
  CHECK_THROWS_AS(column_map(v{{"a", "", ""}}), std::invalid_argument);
  CHECK_THROWS_AS(column_map(v{{"a", "text", "a__v_text"}}), std::invalid_argument);
  CHECK_NOTHROW(column_map(v{{"a", "text", "a__v_text"}, {"a", "", "a"}}));
  // Columns persisted by hand keep their names, whatever snake_case says.
  column_map m(v{{"createdOn", "", "CreatedOn"}});
  CHECK(m.assign("createdOn").column == "CreatedOn");
}

TEST_CASE("reserve keeps other columns of the table away from fields") {
  column_map m;
  m.reserve("name");
  m.reserve("legacy");
  CHECK(m.assign("name").column == "name_2");
  CHECK(m.assign("legacy").column == "legacy_2");
}

TEST_CASE("field_label: the name itself when text holds it, else a readable stand-in") {
  CHECK(field_label("createdOn") == "createdOn");
  CHECK(field_label("a\\u0000b") == "a\\u0000b");
  CHECK(field_label("Zoë 😀") == "Zoë 😀");
  CHECK(field_label("") == "");
  CHECK(field_label(std::string("a\0b", 3)) == "a\\u0000b");
  CHECK(field_label(std::string("\0", 1)) == "\\u0000");
  CHECK(field_label("\xed\xb0\x80") == "\\udc00");
  CHECK(field_label("x\xed\xa0\xbd") == "x\\ud83d");
  CHECK(field_label("a\xff") == "a\\xff");
  CHECK(field_label("\xc3") == "\\xc3");
  CHECK(field_label(std::string(max_field_label_bytes, 'k')) ==
        std::string(max_field_label_bytes, 'k'));
  const auto long_label = field_label(std::string(5000, 'k'));
  CHECK(long_label.size() <= max_field_label_bytes);
  CHECK(long_label.ends_with("…"));
  CHECK(field_label(std::string(100'000, '\0')).size() <= max_field_label_bytes);

  std::mt19937 rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::string field(rng() % 2000, '\0');
    for (auto& c : field) c = static_cast<char>(rng());
    const auto label = field_label(field);
    CAPTURE(field);
    CHECK(valid_utf8(label));
    CHECK(label.find('\0') == std::string::npos);
    CHECK(label.size() <= max_field_label_bytes);
  }
}

TEST_CASE("field_labels: one distinct label per field, as persisted") {
  field_labels labels;
  // An older restsync stored names as they are.
  labels.add("a\\u0000b", "a\\u0000b");
  CHECK(labels.label("a\\u0000b") == "a\\u0000b");
  const std::string nul("a\0b", 3);
  CHECK(labels.label(nul) == "a\\u0000b #2");
  CHECK(labels.label(nul) == "a\\u0000b #2");
  CHECK(labels.label(std::string("a\0b\0", 4)) == "a\\u0000b\\u0000");
  // Long names that share their first kilobyte.
  const std::string a = std::string(2000, 'k') + "a";
  const std::string b = std::string(2000, 'k') + "b";
  const std::string label_a = labels.label(a);
  const std::string label_b = labels.label(b);
  CHECK(label_a == field_label(a));
  CHECK(label_b == label_a + " #2");
  CHECK(label_b.size() <= max_field_label_bytes + 3);
}

TEST_CASE("field names of any content get distinct columns that reload the same") {
  const std::vector<std::string> fields = {std::string("a\0b", 3),
                                           std::string("\0", 1),
                                           "\xed\xb0\x80",
                                           "\xed\xa0\x80",
                                           "a\\u0000b",
                                           "a_b",
                                           std::string(3000, 'k') + "\xff"};
  column_map first;
  for (const auto& f : fields) first.assign(f);
  const auto saved = first.fresh();
  std::set<std::string> columns;
  for (const auto& a : saved) {
    CAPTURE(a.column);
    CHECK(valid_utf8(a.column));
    CHECK(a.column.size() <= max_identifier_bytes);
    CHECK_NOTHROW(quote_ident(a.column));
    columns.insert(a.column);
  }
  CHECK(columns.size() == fields.size());
  CHECK(saved[0].column == "a_b");
  CHECK(saved[1].column == "_");
  CHECK(saved[2].column == "_2");
  CHECK(saved[3].column == "_3");

  column_map reloaded(saved);
  for (const auto& f : fields) CHECK(reloaded.assign(f).column == first.assign(f).column);
  CHECK(reloaded.fresh().empty());
}

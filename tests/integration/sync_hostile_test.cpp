// Bodies the emulator cannot serve, from a server of one fixed body: valid
// JSON that real APIs send all the same (text cut mid-character), synced into
// a real PostgreSQL.
#include <doctest/doctest.h>

#include <fstream>

#include "canned_server.hpp"
#include "pg.hpp"
#include "support.hpp"

using namespace rs_test;

namespace {

// `restsyncd sync` of one single-page resource, `hostile`, served by server.
std::pair<int, std::string> sync_once(const canned_server& server, const scratch_database& db) {
  temp_dir dir;
  const auto file = dir.path() / "restsync.yaml";
  std::ofstream(file) << "client: {base_url: \"" << server.base_url() << "\"}\n"
                      << "resources:\n"
                      << "  - name: hostile\n"
                      << "    primary_key: id\n"
                      << "    endpoint: {path: /records, data_selector: _data, "
                         "paginator: single_page}\n";
  process p({(bin_dir() / "restsyncd").string(), "sync", "--config", file.string()},
            {{"PGDATABASE", db.name()}});
  const int status = p.wait(std::chrono::minutes(2)).value_or(-1);
  return {status, p.stderr_text()};
}

}  // namespace

TEST_CASE("a lone surrogate of either half in a value: the row lands, as its escape text") {
  // An emoji cut to its high half used to make the page malformed JSON, and
  // the resource never synced.
  canned_server server(R"({"_data":[)"
                       R"({"id":1,"cut":"x\ud83d","low":"\udc00y","pair":"\ud83d\ude00"},)"
                       R"({"id":2,"cut":"whole"}]})");
  scratch_database db;
  const auto [status, log] = sync_once(server, db);
  INFO(log);
  REQUIRE(status == 0);
  CHECK(db.query("SELECT id, cut, low, pair FROM analytics.hostile ORDER BY id") ==
        std::vector<std::vector<std::string>>{{"1", "x\\ud83d", "\\udc00y", "😀"},
                                              {"2", "whole", "", ""}});
}

TEST_CASE("field names of any content map to one column each, the same on every run") {
  // A name with NUL was saved in the column map cut at the NUL, so every
  // run mapped it again: new columns each run, every row updated, until
  // PostgreSQL's 1,600 columns. A lone surrogate in a name failed the save
  // of the map; a name of kilobytes exceeds what a btree index holds.
  std::string huge;
  for (int i = 0; huge.size() < 10000; ++i) huge += std::to_string(i * 7919 % 10007) + "Q";
  canned_server server(R"({"_data":[)"
                       R"({"id":1,"a\u0000b":1,"\u0000":2,"\udc00":3,"\ud800":4,"x\ud83d":5,)"
                       R"("a\\u0000b":6,")" +
                       huge + R"(":7,")" + huge +
                       R"(!":8,"createdOn":9},)"
                       R"({"id":2,"a\u0000b":10}]})");
  scratch_database db;
  const auto columns = [&] {
    return std::stoi(db.scalar(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'analytics' AND "
        "table_name = 'hostile'"));
  };
  for (int run = 1; run <= 3; ++run) {
    CAPTURE(run);
    const auto [status, log] = sync_once(server, db);
    INFO(log);
    REQUIRE(status == 0);
    // id, nine fields, _rs_synced_at, _rs_deleted_at
    CHECK(columns() == 12);
    CHECK(db.scalar("SELECT count(*) FROM analytics._rs_columns") == "10");
  }
  CHECK(db.query("SELECT inserted, updated, unchanged FROM analytics._rs_runs ORDER BY id") ==
        std::vector<std::vector<std::string>>{{"2", "0", "0"}, {"0", "0", "2"}, {"0", "0", "2"}});
  // Every column name is a valid identifier within PostgreSQL's 63 bytes.
  CHECK(db.scalar("SELECT max(octet_length(column_name)) FROM information_schema.columns WHERE "
                  "table_name = 'hostile'") == "63");
  // Each value in its own field's column; the map keeps the exact names.
  CHECK(db.query("SELECT a_b, _, _2, _3, x, a_u0000b, created_on FROM analytics.hostile "
                 "ORDER BY id") ==
        std::vector<std::vector<std::string>>{{"1", "2", "3", "4", "5", "6", "9"},
                                              {"10", "", "", "", "", "", ""}});
  CHECK(db.query("SELECT field, column_name FROM analytics._rs_columns WHERE field_name IN "
                 "('\\x610062', '\\x615c753030303062') ORDER BY column_name") ==
        std::vector<std::vector<std::string>>{{"a\\u0000b", "a_b"}, {"a\\u0000b #2", "a_u0000b"}});
}

TEST_CASE("a column map saved before it kept exact names still reads the same") {
  canned_server server(R"({"_data":[{"id":1,"createdOn":2,"a\\b":3}]})");
  scratch_database db;
  REQUIRE(sync_once(server, db).first == 0);
  // As an older restsync left it: the names in `field` only.
  db.query("ALTER TABLE analytics._rs_columns DROP COLUMN field_name");
  for (int run = 2; run <= 3; ++run) {
    CAPTURE(run);
    const auto [status, log] = sync_once(server, db);
    INFO(log);
    REQUIRE(status == 0);
  }
  CHECK(db.query("SELECT column_name FROM information_schema.columns WHERE table_name = "
                 "'hostile' ORDER BY ordinal_position") ==
        std::vector<std::vector<std::string>>{
            {"id"}, {"_rs_synced_at"}, {"_rs_deleted_at"}, {"created_on"}, {"a_b"}});
  CHECK(db.query("SELECT inserted, updated, unchanged FROM analytics._rs_runs ORDER BY id") ==
        std::vector<std::vector<std::string>>{{"1", "0", "0"}, {"0", "0", "1"}, {"0", "0", "1"}});
}

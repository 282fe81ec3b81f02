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

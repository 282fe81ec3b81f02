// restsyncd sync killed with SIGKILL at random moments, again and again: each
// time the tables hold only whole, correct rows, no run is recorded as
// complete that was not, and a clean sync afterwards ends equal to the truth.
#include <rapidjson/document.h>
#include <signal.h>

#include <map>
#include <random>
#include <set>
#include <thread>

#include "sync_harness.hpp"

using namespace rs_test;

namespace {

// The keys of the truth's records whose cursor field is below `cursor`.
std::set<std::string> keys_before(const std::string& truth, const std::string& field,
                                  long long cursor) {
  rapidjson::Document doc;
  doc.Parse(truth.c_str());
  REQUIRE(doc.IsArray());
  std::set<std::string> out;
  for (const auto& r : doc.GetArray()) {
    auto f = r.FindMember(field.c_str());
    if (f == r.MemberEnd() || !f->value.IsInt64() || f->value.GetInt64() >= cursor) continue;
    const auto& id = r["id"];
    out.insert(id.IsString() ? id.GetString() : std::to_string(id.GetInt64()));
  }
  return out;
}

// No stored cursor is ahead of the rows: every record older than it is in
// the table (the feed's and custom_widgets' cursors; see config_options).
void check_cursors_not_ahead(const emulator& emu, const scratch_database& db) {
  for (auto [resource, field] :
       {std::pair{"accounts_feeds", "when"}, std::pair{"custom_widgets", "updatedAt"}}) {
    auto c =
        db.query(std::string("SELECT cursor_value FROM analytics._rs_state WHERE resource = '") +
                 resource + "' AND cursor_value IS NOT NULL");
    if (c.empty()) continue;
    std::set<std::string> in_table;
    for (const auto& row : db.query(std::string("SELECT id::text FROM analytics.") + resource))
      in_table.insert(row[0]);
    INFO("resource ", resource, " cursor ", c[0][0]);
    for (const auto& key : keys_before(emu.truth(resource), field, std::stoll(c[0][0]))) {
      INFO("key ", key);
      CHECK(in_table.count(key) == 1);
    }
  }
}

}  // namespace

TEST_CASE("SIGKILL at random moments, 24 times, then a clean sync: nothing lost, nothing ahead") {
  // Latency stretches a sync over a few seconds so kills land mid-paging,
  // mid-transaction and between commits.
  emulator emu({"--records", "600", "--latency-ms", "80", "--seed", "11"});
  scratch_database db;
  temp_dir dir;
  auto file = dir.path() / "restsync.yaml";
  config_options o;
  o.max_in_flight = 3;
  // Cursors on the feed (newest first, append) and custom_widgets, so that
  // kills also land between a page and the cursor that it justifies.
  o.incremental = true;
  std::ofstream(file) << analytics_yaml(o);
  std::mt19937 rng(20261126);
  std::uniform_int_distribution<int> delay_ms(5, 700);
  // Every version of the data the emulator has served: a row may be of any
  // of them until a complete sync has run since the change.
  std::map<std::string, std::vector<std::string>> versions;
  for (const auto& r : analytics_resources()) versions[r.name].push_back(emu.truth(r.name));

  int killed_mid_run = 0;
  for (int round = 0; round < 24; ++round) {
    CAPTURE(round);
    if (round % 6 == 5) {
      // Change the data now and then, so later rounds have new work too.
      auto m = emu.mutate(R"({"ops":[{"op":"add","resource":"users","count":30,"position":"front"},
          {"op":"change","resource":"campaigns","count":10},
          {"op":"change","resource":"custom_widgets","count":6},
          {"op":"add","resource":"accounts_feeds","count":25,"position":"front"}]})");
      REQUIRE(m.status == 200);
      for (const auto& r : analytics_resources()) versions[r.name].push_back(emu.truth(r.name));
    }
    std::vector<std::string> argv = {(bin_dir() / "restsyncd").string(), "sync", "--config",
                                     file.string()};
    process p(argv, {{"ANALYTICS_BASE_URL", emu.base_url()},
                     {"ANALYTICS_API_KEY", emu.api_key()},
                     {"PGDATABASE", db.name()}});
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    if (p.running()) ++killed_mid_run;
    int code = p.stop(SIGKILL);
    INFO(p.stderr_text());
    CHECK((code == 128 + SIGKILL || code == 0));

    // Whatever was committed is whole and right: every row equals its record
    // in one of the versions served.
    for (const auto& r : analytics_resources()) {
      std::set<std::string> bad;
      bool first = true;
      for (const auto& truth : versions[r.name]) {
        auto keys = db.differing_keys("analytics", r.name, truth, {r.key}, true);
        std::set<std::string> now(keys.begin(), keys.end());
        if (first) {
          bad = now;
          first = false;
        } else {
          std::set<std::string> both;
          for (const auto& k : bad)
            if (now.count(k)) both.insert(k);
          bad = both;
        }
      }
      INFO("resource ", r.name);
      for (const auto& k : bad) MESSAGE("row matches no version: key ", k);
      CHECK(bad.empty());
    }
    check_cursors_not_ahead(emu, db);
    // A run that did not finish is never recorded as a success or a complete scan.
    auto exists = db.scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'analytics' AND "
        "tablename = '_rs_runs'");
    if (exists == "1") {
      CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE complete_scan AND status <> "
                      "'succeeded'") == "0");
      CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status = 'succeeded' AND "
                      "finished_at IS NULL") == "0");
    }
  }
  // The kills must really have interrupted runs, or this test proves nothing.
  CHECK(killed_mid_run >= 18);

  auto r = run_sync(analytics_yaml(o), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db);
  // Runs cut short by a kill are marked interrupted by the next start.
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status = 'running'") == "0");
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status = 'interrupted'") != "0");
  // State never claims more than the data: the last complete scan of each
  // resource is the clean run's.
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_state s WHERE last_complete_scan_at > "
                  "(SELECT max(finished_at) FROM analytics._rs_runs r WHERE r.resource = "
                  "s.resource AND r.status = 'succeeded' AND r.complete_scan)") == "0");
}

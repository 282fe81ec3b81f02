// restsyncd status: the state of every resource from _rs_state and _rs_runs,
// as a table or JSON; exit status 1 when a resource is older than its
// max_age, 69 when the database cannot be read. And the daemon's own
// warning when a resource turns stale.
#include <rapidjson/document.h>

#include "daemon_harness.hpp"

using namespace rs_test;

namespace {

struct status_result {
  int code = -1;
  std::string out, err;
};

status_result run_status(const std::string& yaml, const emulator& emu, const scratch_database& db,
                         bool json = false) {
  temp_dir dir;
  auto file = dir.path() / "restsync.yaml";
  std::ofstream(file) << yaml;
  std::vector<std::string> argv = {(bin_dir() / "restsyncd").string(), "status", "--config",
                                   file.string()};
  if (json) argv.push_back("--json");
  process p(argv, {{"ANALYTICS_BASE_URL", emu.base_url()},
                   {"ANALYTICS_API_KEY", emu.api_key()},
                   {"PGDATABASE", db.name()}});
  status_result r;
  r.out = p.stdout_rest(30s);
  r.code = p.wait(30s).value_or(-1);
  r.err = p.stderr_text();
  return r;
}

}  // namespace

TEST_CASE("status before and after a sync, as a table and as JSON") {
  emulator emu;
  scratch_database db;
  daemon_options d;
  d.only = {"users", "labels"};
  d.max_age = "1h";
  const std::string yaml = daemon_yaml({}, d);

  // Nothing synced yet: both resources are stale (they have a max_age).
  auto before = run_status(yaml, emu, db);
  INFO(before.out, before.err);
  CHECK(before.code == 1);
  CHECK(before.out.find("users      never synced") == std::string::npos);
  CHECK(before.out.find("stale") != std::string::npos);

  auto r = run_sync(yaml, emu, db);
  REQUIRE(r.status == 0);
  auto after = run_status(yaml, emu, db);
  INFO(after.out, after.err);
  CHECK(after.code == 0);
  CHECK(after.out.find("schema analytics: 2 resources") != std::string::npos);
  CHECK(after.out.find("RESOURCE  STATE  LAST SUCCESS (UTC)") != std::string::npos);
  CHECK(std::regex_search(
      after.out,
      std::regex(
          R"(\nusers +ok +20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ +\d+s +1h +75 +- +succeeded in \d+s: 75 records, \+75 ~0 =0\n)")));
  CHECK(std::regex_search(after.out, std::regex(R"(\nlabels +ok .* 55 +- +succeeded)")));

  auto json = run_status(yaml, emu, db, true);
  INFO(json.out);
  CHECK(json.code == 0);
  rapidjson::Document doc;
  doc.Parse(json.out.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK_FALSE(doc["stale"].GetBool());
  const auto& rs = doc["resources"];
  REQUIRE(rs.Size() == 2);
  CHECK(std::string(rs[0]["resource"].GetString()) == "users");
  CHECK(rs[0]["rows"].GetInt64() == 75);
  CHECK(rs[0]["last_run"]["inserted"].GetInt64() == 75);
  CHECK(rs[0]["age_seconds"].GetDouble() < 120);
  CHECK(std::string(rs[1]["state"].GetString()) == "ok");

  // A max_age shorter than the age: stale, exit 1.
  daemon_options strict = d;
  strict.max_age = "1s";
  std::this_thread::sleep_for(1500ms);
  auto stale = run_status(daemon_yaml({}, strict), emu, db);
  INFO(stale.out);
  CHECK(stale.code == 1);
  CHECK(std::regex_search(stale.out, std::regex(R"(\nusers +stale )")));

  // A resource the configuration no longer lists is shown, not judged.
  daemon_options fewer = d;
  fewer.only = {"users"};
  auto gone = run_status(daemon_yaml({}, fewer), emu, db);
  CHECK(gone.code == 0);
  CHECK(std::regex_search(gone.out, std::regex(R"(\nlabels +not configured )")));
}

TEST_CASE("status names the last error of a failing resource") {
  emulator emu;
  scratch_database db;
  daemon_options d;
  d.only = {"labels"};
  const std::string yaml = daemon_yaml({}, d);
  auto r = run_sync(yaml, emu, db, {}, {{"ANALYTICS_API_KEY", "wrong"}});
  REQUIRE(r.status == 1);
  auto s = run_status(yaml, emu, db);
  INFO(s.out);
  CHECK(s.code == 0);  // no max_age: failing, but nobody said how old is too old
  CHECK(std::regex_search(s.out, std::regex(R"(\nlabels +failing )")));
  CHECK(s.out.find("last errors:\n  labels (") != std::string::npos);
  CHECK(s.out.find("Invalid API token") != std::string::npos);
}

TEST_CASE("status exits 69 when the database cannot be read") {
  emulator emu;
  scratch_database db;
  std::string yaml = daemon_yaml({}, {}) +
                     "destination: {connection: \"host=127.0.0.1 port=1 connect_timeout=2\"}\n";
  auto s = run_status(yaml, emu, db);
  CHECK(s.code == 69);
  CHECK(s.err.find("reading the sync state from PostgreSQL (schema analytics) failed") !=
        std::string::npos);
}

TEST_CASE("the daemon warns once when a resource passes its max_age, and says when it is fresh") {
  emulator emu;
  scratch_database db;
  daemon_options d;
  d.only = {"labels"};
  d.interval = "3s";
  d.max_age = "1s";
  d.failure_backoff = "3s";
  daemon_process daemon(daemon_yaml({}, d), emu, db);
  INFO(daemon.log());
  REQUIRE(eventually([&] { return runs_of(db, "labels", "succeeded") == 1; }, 60s));
  // The success is at most a second old, then stale until the next run.
  REQUIRE(daemon.wait_log("event=stale resource=labels", 10s));
  CHECK(daemon.log().find("max_age=1s last_success=20") != std::string::npos);
  REQUIRE(daemon.wait_log("event=fresh resource=labels", 10s));
  REQUIRE(daemon.wait_log("event=stale resource=labels", 10s, 2));
  CHECK(daemon.stop(SIGTERM).first == 0);
}

TEST_CASE("--log-level wins over log.level") {
  emulator emu;
  scratch_database db;
  daemon_options d;
  d.only = {"labels"};
  d.log_level = "error";
  daemon_process daemon(daemon_yaml({}, d), emu, db, {}, {"--log-level", "debug"});
  INFO(daemon.log());
  REQUIRE(eventually([&] { return runs_of(db, "labels", "succeeded") == 1; }, 60s));
  REQUIRE(daemon.wait_log("event=summary resource=labels"));
  CHECK(daemon.log().find("level=debug event=page") != std::string::npos);
  CHECK(daemon.stop(SIGTERM).first == 0);

  // On a database of its own, so that labels is due at once (the schedule
  // is the database's).
  scratch_database fresh;
  daemon_process quiet(daemon_yaml({}, d), emu, fresh);
  REQUIRE(eventually([&] { return runs_of(fresh, "labels", "succeeded") == 1; }, 60s));
  CHECK(quiet.stop(SIGTERM).first == 0);
  CHECK(quiet.log().empty());
}

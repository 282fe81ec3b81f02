// PostgreSQL stopped and started under a running daemon: the daemon stays
// up, its runs wait for the database or fail and are retried, and once the
// database is back every change reaches the tables.
#include "cluster.hpp"
#include "daemon_harness.hpp"

using namespace rs_test;

TEST_CASE("the database stopped and started while the daemon runs: it recovers, nothing is lost") {
  test_cluster cluster;
  emulator emu;
  scratch_database db;
  daemon_options d;
  d.only = {"users", "labels", "custom_widgets"};
  d.interval = "1s";
  d.failure_backoff = "1s";
  daemon_process daemon(daemon_yaml({}, d), emu, db);
  INFO(daemon.log());
  for (const auto& name : d.only)
    REQUIRE(eventually([&] { return runs_of(db, name, "succeeded") >= 2; }, 60s));

  cluster.stop();
  // Changes made while the database is away must arrive once it is back.
  auto m = emu.mutate(R"({"ops":[
      {"op":"add","resource":"users","count":9,"position":"front"},
      {"op":"change","resource":"custom_widgets","count":6},
      {"op":"remove","resource":"labels","count":2}]})");
  REQUIRE(m.status == 200);
  std::this_thread::sleep_for(4s);
  CHECK(daemon.running());
  cluster.start();

  // Runs succeed again, and the tables catch up.
  REQUIRE(eventually(
      [&] {
        try {
          return std::stoi(db.scalar(
                     "SELECT count(DISTINCT resource) FROM analytics._rs_runs WHERE "
                     "status = 'succeeded' AND started_at > now() - interval '2 s'")) == 3;
        } catch (const std::exception&) {
          return false;
        }
      },
      120s, 500ms));
  check_tables_equal_truth(emu, db, {"users", "custom_widgets"});
  // labels: the two removed records are still rows (a deletion needs sound
  // evidence); every other row equals the truth.
  auto diffs = db.diff_with_truth("analytics", "labels", emu.truth("labels"), {"id"});
  CHECK(diffs.size() <= 2);
  for (const auto& diff : diffs) CHECK(diff.find("<not in truth>") != std::string::npos);
  CHECK(daemon.running());
  CHECK(daemon.stop(SIGTERM).first == 0);
}

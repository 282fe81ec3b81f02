// PostgreSQL going away in the middle of `restsyncd sync`: the store
// reconnects with backoff, reruns the transaction that was cut, and the
// sync ends with every table equal to the truth.
#include <signal.h>

#include <thread>

#include "cluster.hpp"
#include "sync_harness.hpp"

using namespace rs_test;

namespace {

// `restsyncd sync` started, once it has committed some pages.
std::unique_ptr<process> start_sync(const std::filesystem::path& file, const emulator& emu,
                                    const scratch_database& db) {
  auto p = std::make_unique<process>(
      std::vector<std::string>{(bin_dir() / "restsyncd").string(), "sync", "--config",
                               file.string()},
      std::map<std::string, std::string>{{"ANALYTICS_BASE_URL", emu.base_url()},
                                         {"ANALYTICS_API_KEY", emu.api_key()},
                                         {"PGDATABASE", db.name()}});
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(25ms);
    try {
      if (db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE pages > 0") != "0") break;
    } catch (const std::exception&) {
    }
  }
  REQUIRE(p->running());
  return p;
}

}  // namespace

TEST_CASE("the database restarted mid-sync: the sync waits, reconnects and loses nothing") {
  // Long enough (40 pages a resource, 2 in flight, 100 ms each: 2 s) that
  // the outage starts while every list resource is still paging.
  emulator emu({"--records", "2000", "--latency-ms", "100", "--seed", "5"});
  scratch_database db;
  test_cluster cluster;
  temp_dir dir;
  auto file = dir.path() / "restsync.yaml";
  config_options o;
  o.max_in_flight = 2;
  std::ofstream(file) << analytics_yaml(o);
  // Let it create its tables and commit some pages, then pull the database away.
  auto p = start_sync(file, emu, db);
  cluster.stop();
  std::this_thread::sleep_for(3s);
  cluster.start();
  auto code = p->wait(std::chrono::minutes(3));
  INFO(p->stderr_text());
  REQUIRE(code == 0);
  check_tables_equal_truth(emu, db);
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status = 'succeeded'") == "9");
}

TEST_CASE("SIGTERM while the database is away: the sync stops promptly, and nothing half-done") {
  // Long enough (40 pages a resource, 100 ms each) that the sync is still
  // running when the database goes away: with two connections a shorter
  // one could finish between the first committed page and the stop.
  emulator emu({"--records", "2000", "--latency-ms", "100", "--seed", "6"});
  scratch_database db;
  test_cluster cluster;
  temp_dir dir;
  auto file = dir.path() / "restsync.yaml";
  std::ofstream(file) << analytics_yaml({});
  auto p = start_sync(file, emu, db);
  cluster.stop();
  std::this_thread::sleep_for(1s);
  // The store would keep reconnecting for reconnect_for (5 minutes) for a
  // sync that goes on; a stop gives up on the queued writes instead.
  int code = p->stop(SIGTERM, std::chrono::seconds(60));
  INFO(p->stderr_text());
  CHECK(code == 1);
  cluster.start();
  // What was committed is whole: every row equals its record.
  for (const auto& r : analytics_resources()) {
    INFO("resource ", r.name);
    CHECK(db.differing_keys("analytics", r.name, emu.truth(r.name), {r.key}, true).empty());
  }
  auto again = run_sync(analytics_yaml({}), emu, db);
  INFO(again.log);
  REQUIRE(again.status == 0);
  check_tables_equal_truth(emu, db);
}

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

// The emulator, a database, the cluster and a config file of one outage
// case. The sync is long enough (40 pages a resource at 100 ms each, about
// 2 s after the first commit) that it is still paging when the database goes
// away: with two connections a 400-record one could end in between.
struct outage_case {
  emulator emu;
  scratch_database db;
  test_cluster cluster;
  temp_dir dir;
  std::filesystem::path file = dir.path() / "restsync.yaml";

  outage_case(const char* seed, const config_options& o)
      : emu({"--records", "2000", "--latency-ms", "100", "--seed", seed}) {
    std::ofstream(file) << analytics_yaml(o);
  }
};

}  // namespace

TEST_CASE("the database restarted mid-sync: the sync waits, reconnects and loses nothing") {
  config_options o;
  o.max_in_flight = 2;
  outage_case c("5", o);
  auto& [emu, db, cluster, dir, file] = c;
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
  outage_case c("6", {});
  auto& [emu, db, cluster, dir, file] = c;
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

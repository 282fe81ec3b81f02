// A database made read-only for new sessions (default_transaction_read_only,
// as a failover or a maintenance window sets it), then writable again: a
// session opened meanwhile stays read-only until it ends, so restsync must
// end its own and reconnect, without anyone ending them by hand.
#include "daemon_harness.hpp"

using namespace rs_test;

TEST_CASE("read-only sessions after a failover: the daemon writes again by itself, loses nothing") {
  emulator emu;
  scratch_database db;
  daemon_options d;
  d.only = {"users", "labels"};
  d.interval = "1s";
  daemon_process daemon(daemon_yaml({}, d), emu, db);
  INFO(daemon.log());
  for (const auto& name : d.only)
    REQUIRE(eventually([&] { return runs_of(db, name, "succeeded") >= 1; }, 60s));

  // New sessions are read-only, and the daemon's are gone: it reconnects
  // into read-only ones.
  db.alter("SET default_transaction_read_only = on");
  db.end_sessions();
  REQUIRE(emu.mutate(R"({"ops":[{"op":"add","resource":"users","count":7,"position":"front"}]})")
              .status == 200);
  REQUIRE(daemon.wait_log("read-only transaction", 30s));
  // Long enough for the store to find its new sessions read-only again.
  std::this_thread::sleep_for(2s);
  db.alter("RESET default_transaction_read_only");
  REQUIRE(eventually(
      [&] {
        try {
          return db.differing_keys("analytics", "users", emu.truth("users"), {"id"}).empty();
        } catch (const std::exception&) {
          return false;  // the table is being written
        }
      },
      60s, 500ms));
  check_tables_equal_truth(emu, db, d.only);
  CHECK(daemon.log().find("event=database_reconnect reason=read_only") != std::string::npos);
  MESSAGE(daemon.log());
  CHECK(daemon.running());
  CHECK(daemon.stop(SIGTERM).first == 0);
}

TEST_CASE("a sync started while the database is read-only waits, then loads every page once") {
  emulator emu({"--records", "300"});
  scratch_database db;
  db.alter("SET default_transaction_read_only = on");
  temp_dir dir;
  auto file = dir.path() / "restsync.yaml";
  std::ofstream(file) << analytics_yaml({});
  process p({(bin_dir() / "restsyncd").string(), "sync", "--config", file.string()},
            {{"ANALYTICS_BASE_URL", emu.base_url()},
             {"ANALYTICS_API_KEY", emu.api_key()},
             {"PGDATABASE", db.name()}});
  REQUIRE(eventually(
      [&] { return p.stderr_text().find("read-only transaction") != std::string::npos; }, 30s));
  std::this_thread::sleep_for(1s);
  db.alter("RESET default_transaction_read_only");
  auto code = p.wait(std::chrono::minutes(3));
  INFO(p.stderr_text());
  REQUIRE(code == 0);
  check_tables_equal_truth(emu, db);
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status = 'succeeded'") == "9");
  // Each page counted once: the runs' records add up to the rows.
  CHECK(db.scalar("SELECT sum(records) = sum(inserted) FROM analytics._rs_runs") == "t");
}

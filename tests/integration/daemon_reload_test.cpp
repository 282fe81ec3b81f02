// SIGHUP: the configuration file is read again and validated; a good one
// takes effect without a restart (resources added and removed, intervals and
// the log level changed), a bad one is refused with its errors logged while
// the daemon keeps running the old one.
#include "daemon_harness.hpp"

using namespace rs_test;

TEST_CASE(
    "SIGHUP with a good configuration: added resources start, removed ones stop, intervals "
    "change") {
  emulator emu;
  scratch_database db;
  daemon_options before;
  before.only = {"users", "labels"};
  before.interval = "1h";
  daemon_process daemon(daemon_yaml({}, before), emu, db);
  INFO(daemon.log());
  REQUIRE(eventually(
      [&] {
        return runs_of(db, "users", "succeeded") == 1 && runs_of(db, "labels", "succeeded") == 1;
      },
      60s));
  CHECK(daemon.log().find("event=page ") == std::string::npos);  // info level: no page lines

  daemon_options after;
  after.only = {"users", "accounts_feeds"};
  after.interval = "1h";
  after.intervals = {{"users", "1s"}};
  after.log_level = "debug";
  daemon.write_config(daemon_yaml({}, after));
  daemon.signal(SIGHUP);
  REQUIRE(daemon.wait_log("event=reloaded resources=2"));
  const std::string log = daemon.log();
  CHECK(log.find("event=resource_removed resource=labels") != std::string::npos);
  CHECK(log.find("event=resource_added resource=accounts_feeds") != std::string::npos);
  CHECK(log.find("event=rescheduled resource=users interval=1s") != std::string::npos);

  REQUIRE(eventually([&] { return runs_of(db, "accounts_feeds", "succeeded") == 1; }, 30s));
  check_tables_equal_truth(emu, db, {"users", "labels", "accounts_feeds"});
  const int users = runs_of(db, "users");
  std::this_thread::sleep_for(4s);
  CHECK(runs_of(db, "users") >= users + 3);
  CHECK(runs_of(db, "labels") == 1);
  // The new log level is in force.
  CHECK(daemon.log().find("event=page ") != std::string::npos);
  CHECK(daemon.stop(SIGTERM).first == 0);
}

TEST_CASE("SIGHUP with a bad configuration: refused with its errors, the old one keeps running") {
  emulator emu;
  scratch_database db;
  daemon_options d;
  d.only = {"users"};
  d.interval = "1s";
  const std::string good = daemon_yaml({}, d);
  daemon_process daemon(good, emu, db);
  INFO(daemon.log());
  REQUIRE(eventually([&] { return runs_of(db, "users", "succeeded") >= 1; }, 60s));

  std::string bad = good;
  bad.replace(bad.find("max_in_flight"), std::string("max_in_flight").size(), "max_inflight");
  daemon.write_config(bad);
  daemon.signal(SIGHUP);
  REQUIRE(daemon.wait_log("event=reload_refused"));
  CHECK(
      daemon.log().find("unknown key `max_inflight` in `client`; did you mean `max_in_flight`?") !=
      std::string::npos);
  CHECK(daemon.log().find("restsync.yaml:") != std::string::npos);  // file:line:column
  // Still syncing every second on the old configuration.
  const int runs = runs_of(db, "users", "succeeded");
  REQUIRE(eventually([&] { return runs_of(db, "users", "succeeded") >= runs + 2; }, 20s));
  CHECK(daemon.running());

  // A destination change cannot apply to a running store: refused too.
  daemon.write_config(good + "destination: {schema: elsewhere}\n");
  daemon.signal(SIGHUP);
  REQUIRE(daemon.wait_log("destination.schema cannot change while restsyncd runs"));

  // Fixing the file and sending SIGHUP again applies it.
  daemon.write_config(good);
  daemon.signal(SIGHUP);
  REQUIRE(daemon.wait_log("event=reloaded"));
  CHECK(daemon.running());
  CHECK(daemon.stop(SIGTERM).first == 0);
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status NOT IN ('succeeded', "
                  "'interrupted')") == "0");
}

TEST_CASE("a reload during a run lets the run finish on the old configuration") {
  emulator emu({"--latency-ms", "200", "--records", "users=600"});
  scratch_database db;
  config_options c;
  c.max_in_flight = 1;
  daemon_options d;
  d.only = {"users"};
  daemon_process daemon(daemon_yaml(c, d), emu, db);
  INFO(daemon.log());
  REQUIRE(running_run_has_pages(db, 2));
  d.only = {"users", "labels"};
  daemon.write_config(daemon_yaml(c, d));
  daemon.signal(SIGHUP);
  REQUIRE(daemon.wait_log("event=reloaded"));
  CHECK(daemon.log().find("event=reloaded resources=2 runs_in_progress=1") != std::string::npos);
  // The users run completes; labels starts once it has (one rate gate).
  REQUIRE(eventually([&] { return runs_of(db, "labels", "succeeded") == 1; }, 60s));
  CHECK(runs_of(db, "users", "succeeded") == 1);
  CHECK(db.scalar("SELECT (SELECT started_at FROM analytics._rs_runs WHERE resource = 'labels') >= "
                  "(SELECT finished_at FROM analytics._rs_runs WHERE resource = 'users')") == "t");
  check_tables_equal_truth(emu, db, {"users", "labels"});
  CHECK(daemon.stop(SIGTERM).first == 0);
}

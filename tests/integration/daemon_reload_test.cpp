// SIGHUP: the configuration file is read again and validated; a good one
// takes effect without a restart (resources added and removed, intervals and
// the log level changed), a bad one is refused with its errors logged while
// the daemon keeps running the old one.
#include <sys/resource.h>

#include "daemon_harness.hpp"

using namespace rs_test;

namespace {

// Nine lists of nine, nine levels deep: 9^9 scalars from 400 bytes, as
// unknown top-level keys.
std::string alias_bomb() {
  std::string y = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    y += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) y += (k == 0 ? "*a" : ", *a") + std::to_string(i - 1);
    y += "]\n";
  }
  return y;
}

// users alone, every second: what a reload does shows within seconds.
daemon_options users_every_second() {
  daemon_options d;
  d.only = {"users"};
  d.interval = "1s";
  return d;
}

// Caps the address space of the processes started in its scope, so that a
// daemon that does expand a bomb fails with std::bad_alloc instead of taking
// the machine's memory (not for sanitizer builds, which reserve terabytes).
class address_space_cap {
 public:
  explicit address_space_cap(rlim_t bytes) {
    getrlimit(RLIMIT_AS, &saved_);
    rlimit capped = saved_;
    capped.rlim_cur = std::min(bytes, saved_.rlim_max);
    setrlimit(RLIMIT_AS, &capped);
  }
  ~address_space_cap() { setrlimit(RLIMIT_AS, &saved_); }
  address_space_cap(const address_space_cap&) = delete;
  address_space_cap& operator=(const address_space_cap&) = delete;

 private:
  rlimit saved_{};
};

}  // namespace

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
  const std::string good = daemon_yaml({}, users_every_second());
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

TEST_CASE("SIGHUP with a YAML alias bomb: refused, the daemon keeps syncing") {
  emulator emu;
  scratch_database db;
  const std::string good = daemon_yaml({}, users_every_second());
  std::optional<daemon_process> daemon;
  {
    const address_space_cap cap(rlim_t{4} << 30);
    daemon.emplace(good, emu, db);
  }
  INFO(daemon->log());
  REQUIRE(eventually([&] { return runs_of(db, "users", "succeeded") >= 1; }, 60s));

  // It used to abort the daemon (std::bad_alloc, exit status 134).
  daemon->write_config(good + alias_bomb());
  daemon->signal(SIGHUP);
  REQUIRE(daemon->wait_log("event=reload_refused"));
  CHECK(daemon->log().find("restsync.yaml:") != std::string::npos);  // file:line:column
  CHECK(daemon->log().find("alias bomb") != std::string::npos);
  CHECK(daemon->running());
  const int runs = runs_of(db, "users", "succeeded");
  REQUIRE(eventually([&] { return runs_of(db, "users", "succeeded") >= runs + 2; }, 20s));
  CHECK(daemon->running());

  // Refused by check-config, sync and run too, with the configuration's exit status.
  for (const char* command : {"check-config", "sync", "run"}) {
    CAPTURE(command);
    const address_space_cap cap(rlim_t{4} << 30);
    process p(
        {(bin_dir() / "restsyncd").string(), command, "--config", daemon->config_file().string()},
        {{"ANALYTICS_BASE_URL", emu.base_url()},
         {"ANALYTICS_API_KEY", emu.api_key()},
         {"PGDATABASE", db.name()}});
    CHECK(p.wait(30s) == 78);
    CHECK(p.stderr_text().find("alias bomb") != std::string::npos);
  }
  CHECK(daemon->stop(SIGTERM).first == 0);
}

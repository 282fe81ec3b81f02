// Stopping restsyncd run: SIGTERM in the middle of a scan stops it within
// daemon.shutdown_timeout with exit status 0; every page that reached the
// database is there whole with the run counters that describe it, nothing
// else is, and the next start picks up from there.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon_harness.hpp"

using namespace rs_test;

TEST_CASE("SIGTERM mid-scan: exit 0 at once, committed pages whole, the run marked interrupted") {
  // users: 2000 records, 40 pages, at most 2 in flight, 300 ms each: a scan
  // of several seconds to interrupt.
  emulator emu({"--latency-ms", "300", "--records", "users=2000"});
  scratch_database db;
  config_options c;
  c.max_in_flight = 2;
  daemon_options d;
  d.only = {"users"};
  daemon_process daemon(daemon_yaml(c, d), emu, db);
  INFO(daemon.log());
  REQUIRE(running_run_has_pages(db, 5));
  auto [code, took] = daemon.stop(SIGTERM);
  CHECK(code == 0);
  CAPTURE(took.count());
  CHECK(took < 3s);
  const std::string log = daemon.log();
  CHECK(log.find("event=stopping signal=SIGTERM runs_in_progress=1") != std::string::npos);
  CHECK(log.find("event=stopped runs_cut_short=true") != std::string::npos);

  // The run is not left 'running', did not count as a success, and its
  // counters match the rows exactly: each page committed with its counts.
  CHECK(db.scalar("SELECT status FROM analytics._rs_runs") == "interrupted");
  CHECK(db.scalar("SELECT last_success_at IS NULL FROM analytics._rs_state WHERE resource = "
                  "'users'") == "t");
  const int rows = std::stoi(db.scalar("SELECT count(*) FROM analytics.users"));
  CHECK(rows > 0);
  CHECK(rows < 2000);
  CHECK(db.scalar("SELECT records FROM analytics._rs_runs") == std::to_string(rows));
  CHECK(db.scalar("SELECT inserted FROM analytics._rs_runs") == std::to_string(rows));
  CHECK(rows % 50 == 0);  // whole pages only
  // Every row that is there equals its record in the truth.
  auto diffs = db.diff_with_truth("analytics", "users", emu.truth("users"), {"id"});
  for (const auto& diff : diffs) {
    INFO(diff);
    CHECK(diff.find("<missing in table>") != std::string::npos);
  }

  // The next start syncs the rest.
  daemon_process again(daemon_yaml(c, d), emu, db);
  INFO(again.log());
  REQUIRE(eventually([&] { return runs_of(db, "users", "succeeded") == 1; }, 120s));
  check_tables_equal_truth(emu, db, {"users"});
  CHECK(again.stop(SIGINT).first == 0);
}

TEST_CASE("an idle daemon stops at once on SIGTERM and on SIGINT") {
  emulator emu;
  for (int sig : {SIGTERM, SIGINT}) {
    // A database of its own: on the same one, labels would not be due again
    // (the schedule is the database's).
    scratch_database db;
    daemon_options d;
    d.only = {"labels"};
    daemon_process daemon(daemon_yaml({}, d), emu, db);
    INFO(daemon.log());
    REQUIRE(eventually(
        [&] { return daemon.log().find("event=summary resource=labels") != std::string::npos; },
        60s));
    auto [code, took] = daemon.stop(sig);
    CHECK(code == 0);
    CHECK(took < 2s);
    CHECK(daemon.log().find("event=stopped runs_cut_short=false") != std::string::npos);
    CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status <> 'succeeded'") == "0");
  }
}

namespace {

// A TCP port that accepts connections (the kernel's backlog) but never
// answers: a client waiting for the server's first bytes waits forever.
struct silent_listener {
  int fd = -1;
  int port = 0;
  silent_listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~silent_listener() { ::close(fd); }
};

}  // namespace

struct stopped_daemon {
  int code;
  std::chrono::milliseconds took;
  std::string log;
};

// A daemon whose database is at `port` of 127.0.0.1, stopped with SIGTERM a
// second after it started.
stopped_daemon stop_with_database_at(int port, const std::string& shutdown_timeout) {
  emulator emu;
  daemon_options d;
  d.shutdown_timeout = shutdown_timeout;
  std::string yaml = daemon_yaml({}, d) +
                     "destination: {connection: \"host=127.0.0.1 port=" + std::to_string(port) +
                     "\"}\n";
  scratch_database db;
  daemon_process daemon(yaml, emu, db);
  INFO(daemon.log());
  REQUIRE(daemon.wait_log("event=starting"));
  std::this_thread::sleep_for(1s);
  auto [code, took] = daemon.stop(SIGTERM);
  return {code, std::chrono::duration_cast<std::chrono::milliseconds>(took), daemon.log()};
}

TEST_CASE("a stop is bounded by daemon.shutdown_timeout even when the database does not answer") {
  // The database accepts the connection and then says nothing: the store's
  // thread hangs in the connection attempt, and only the bound ends the stop.
  silent_listener silent;
  auto s = stop_with_database_at(silent.port, "2s");
  INFO(s.log);
  CHECK(s.code == 0);
  CAPTURE(s.took.count());
  CHECK(s.took >= 1500ms);
  CHECK(s.took < 5s);
  CHECK(s.log.find("event=stop_timeout shutdown_timeout=2s") != std::string::npos);
}

TEST_CASE("a stop while the database refuses connections does not wait for it") {
  // A port where nothing listens: the store keeps trying to connect, but a
  // stop drops what is queued instead of waiting for the reconnect window.
  auto s = stop_with_database_at(1, "20s");
  INFO(s.log);
  CHECK(s.code == 0);
  CAPTURE(s.took.count());
  CHECK(s.took < 10s);
  CHECK(s.log.find("event=stop_timeout") == std::string::npos);
}

// A soak: every resource on a very short interval for long enough to make
// thousands of runs (the ticks of days at the shipped 15 minutes), with the
// daemon's memory, descriptors and database connections measured on the way.
// They must stay flat: a leak per run would show at this count.
#include <fstream>
#include <sstream>

#include "daemon_harness.hpp"

using namespace rs_test;

namespace {

struct footprint {
  long rss_kb = 0;
  int fds = 0;
};

footprint measure(int pid) {
  footprint f;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) f.rss_kb = std::stol(line.substr(6));
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd");
       it != std::filesystem::directory_iterator(); ++it)
    ++f.fds;
  return f;
}

int total_runs(const scratch_database& db) {
  return std::stoi(db.scalar("SELECT count(*) FROM analytics._rs_runs"));
}

}  // namespace

TEST_CASE("soak: thousands of runs with flat memory, descriptors and connections") {
  emulator emu;
  scratch_database db;
  daemon_options d;
  d.interval = "200ms";
  daemon_process daemon(daemon_yaml({}, d), emu, db);
  INFO(daemon.log().substr(0, 4000));
  REQUIRE(eventually(
      [&] {
        try {
          return total_runs(db) >= 300;
        } catch (const std::exception&) {
          return false;
        }
      },
      120s, 500ms));
  // Warmed up: pools, caches and the allocator have reached their size.
  const auto warm = measure(daemon.pid());
  const int runs_warm = total_runs(db);
  const auto connections = [&] {
    return std::stoi(db.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = '" +
                               db.name() + "' AND pid <> pg_backend_pid()"));
  };
  std::vector<footprint> samples;
  auto t0 = std::chrono::steady_clock::now();
  int max_connections = 0;
  while (std::chrono::steady_clock::now() - t0 < 45s) {
    std::this_thread::sleep_for(5s);
    samples.push_back(measure(daemon.pid()));
    max_connections = std::max(max_connections, connections());
  }
  const auto end = measure(daemon.pid());
  const int runs = total_runs(db) - runs_warm;
  MESSAGE("runs during the soak: ", runs, "; RSS ", warm.rss_kb, " kB -> ", end.rss_kb, " kB; fds ",
          warm.fds, " -> ", end.fds, "; database connections at most ", max_connections);
  CHECK(runs >= 800);
  // A leak of even 1 kB per run would add a megabyte here.
  CHECK(end.rss_kb - warm.rss_kb < 4096);
  for (const auto& s : samples) CHECK(s.fds <= warm.fds + 4);
  CHECK(end.fds <= warm.fds + 4);
  // The store opens at most destination.connections (2 by default), never more.
  CHECK(max_connections >= 1);
  CHECK(max_connections <= 2);
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status NOT IN ('succeeded', "
                  "'running')") == "0");
  check_tables_equal_truth(emu, db);
  CHECK(daemon.stop(SIGTERM).first == 0);
}

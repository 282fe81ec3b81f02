// A secret shorter than short_secret_length (here a one-character API key):
// every text restsyncd prints masks it only where a whole value is the
// secret, so that the words around it stay whole, and `sync` and `run` warn
// about it once at start.
#include "daemon_harness.hpp"

using namespace rs_test;

namespace {

emulator short_key_emulator() {
  emulator::options eo;
  eo.api_key = "a";
  return emulator(eo);
}

daemon_options users_only() {
  daemon_options d;
  d.only = {"users"};
  return d;
}

}  // namespace

TEST_CASE("status without a database: its error keeps its words") {
  auto emu = short_key_emulator();
  temp_dir dir;
  auto file = dir.path() / "restsync.yaml";
  std::ofstream(file) << daemon_yaml({}, users_only());
  // No server listens in an empty directory.
  process p({(bin_dir() / "restsyncd").string(), "status", "--config", file.string()},
            {{"ANALYTICS_BASE_URL", emu.base_url()},
             {"ANALYTICS_API_KEY", emu.api_key()},
             {"PGHOST", dir.path().string()}});
  auto code = p.wait(30s);
  auto err = p.stderr_text();
  INFO(err);
  CHECK(code == 69);
  CHECK(err.find("failed") != std::string::npos);
  CHECK(err.find("***") == std::string::npos);
}

TEST_CASE("sync and run warn once at start, and their lines keep their words") {
  auto emu = short_key_emulator();
  scratch_database db;
  const std::string yaml = daemon_yaml({}, users_only());

  auto r = run_sync(yaml, emu, db);
  INFO(r.log);
  CHECK(r.status == 0);
  CHECK(count_of(r.log, "level=warning event=short_secret secrets=1 min_length=6") == 1);
  CHECK(r.log.find("event=summary resource=users status=ok") != std::string::npos);
  CHECK(r.log.find("***") == std::string::npos);

  daemon_process daemon(yaml, emu, db);
  INFO(daemon.log());
  REQUIRE(daemon.wait_log("event=summary resource=users"));
  CHECK(count_of(daemon.log(), "level=warning event=short_secret secrets=1 min_length=6") == 1);
  CHECK(daemon.log().find("***") == std::string::npos);
  CHECK(daemon.stop(SIGTERM).first == 0);
}

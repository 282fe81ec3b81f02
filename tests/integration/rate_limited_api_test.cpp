// An API that allows one request per second while restsync allows itself
// more (or sets no limit of its own): the gate learns the API's limit from
// its 429s, and no resource fails for having met them (issue 12).
#include "sync_harness.hpp"

using namespace rs_test;

namespace {

// The shipped config/analytics.yaml, its own limit replaced.
std::string shipped_config_with(const std::string& rate_limit) {
  std::string text = shipped_config_text();
  const std::string shipped = "  rate_limit:\n    requests_per_second: 1\n    burst: 1\n";
  auto at = text.find(shipped);
  REQUIRE(at != std::string::npos);
  return text.replace(at, shipped.size(), rate_limit);
}

void sync_everything_against(const std::string& rate_limit) {
  CAPTURE(rate_limit);
  emulator emu({"--rate-limit", "1"});
  scratch_database db;
  auto r = run_sync(shipped_config_with(rate_limit), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db);
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status = 'succeeded'") == "9");
  // The run that ended last left the rate the gate had learned: about the
  // API's 1 request/s (a little above it between two 429s), recorded for status.
  const double learned = std::stod(db.scalar(
      "SELECT gate_rate FROM analytics._rs_runs ORDER BY finished_at DESC, id DESC LIMIT 1"));
  CHECK(learned > 0.3);
  CHECK(learned < 1.6);
  auto stats = emu.stats();
  INFO(stats);
  // The gate slowed down: 429s are a small share of the requests, not a
  // storm that every waiting request joins after each pause.
  CHECK(json_int(stats, "rate_limited") > 0);
  CHECK(json_int(stats, "rate_limited") * 3 <= json_int(stats, "requests_total"));
}

}  // namespace

TEST_CASE("no limit of our own against an API of 1 request/s: learned, nothing fails") {
  sync_everything_against("  rate_limit: {requests_per_second: 0}\n");
}

TEST_CASE("our limit at 10 against an API of 1 request/s: slowed down, nothing fails") {
  sync_everything_against("  rate_limit: {requests_per_second: 10}\n");
}

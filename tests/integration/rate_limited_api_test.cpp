// An API that allows one request per second while restsync allows itself
// more (or sets no limit of its own): the gate learns the API's limit from
// its 429s, and no resource fails for having met them (issue 12).
#include "sync_harness.hpp"

using namespace rs_test;

namespace {

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
  // The gate slowed down: fewer 429s than answers, not a storm that every
  // waiting request joins after each pause. (Learning the limit from none
  // costs the first burst, one per resource, and one 429 per slowdown on
  // the way down to the API's rate: about 10, against the 16 requests the
  // data needs.)
  CHECK(json_int(stats, "rate_limited") > 0);
  CHECK(json_int(stats, "rate_limited") * 2 <= json_int(stats, "requests_total"));
}

}  // namespace

TEST_CASE("no limit of our own against an API of 1 request/s: learned, nothing fails") {
  sync_everything_against("  rate_limit: {requests_per_second: 0}\n");
}

TEST_CASE("our limit at 10 against an API of 1 request/s: slowed down, nothing fails") {
  sync_everything_against("  rate_limit: {requests_per_second: 10}\n");
}

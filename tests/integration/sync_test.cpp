// restsyncd sync end to end: the real emulator over real sockets, a real
// PostgreSQL, and every table checked field by field against /__truth.
#include "sync_harness.hpp"

using namespace rs_test;

TEST_CASE(
    "the shipped config/analytics.yaml syncs all nine resources; a second sync changes nothing") {
  emulator emu;
  scratch_database db;
  // The shipped file allows one request per second, as the real API does.
  auto r = run_shipped_sync(emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db);
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status = 'succeeded'") == "9");
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_state WHERE last_success_at IS NOT NULL AND "
                  "last_complete_scan_at IS NOT NULL") == "9");
  // The key never reaches a log line.
  CHECK(r.log.find(emu.api_key()) == std::string::npos);
  CHECK(r.log.find("event=summary resource=users status=ok") != std::string::npos);

  auto again = run_sync(analytics_yaml({}), emu, db);
  INFO(again.log);
  REQUIRE(again.status == 0);
  CHECK(db.scalar("SELECT sum(inserted + updated) FROM analytics._rs_runs WHERE id > 9") == "0");
  CHECK(db.scalar("SELECT sum(unchanged) FROM analytics._rs_runs WHERE id > 9") ==
        db.scalar("SELECT sum(records) FROM analytics._rs_runs WHERE id <= 9"));
  check_tables_equal_truth(emu, db);
}

TEST_CASE(
    "every quirk on: capped pages, wrapped collections, empty pages without _data, late fields") {
  emulator emu({"--quirks", "all"});
  scratch_database db;
  config_options o;
  o.wrapped_campaigns = true;
  auto r = run_sync(analytics_yaml(o), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db);
  // Late fields got their own columns, and values of another type variants.
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_columns WHERE resource = 'users' AND "
                  "field IN ('region', 'score', 'meta')") == "3");
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_columns WHERE resource = 'users' AND "
                  "field = 'account' AND variant <> ''") == "1");
}

// The API may wrap a list (ANALYTICS_API.md, quirk 2): the shipped file lists
// both shapes and reads the wrapped shape's totalCount as the end of a scan.
namespace {

// Syncs with the shipped file against an emulator with these quirks; every
// table must equal the truth. Returns the requests campaigns took.
std::int64_t campaign_requests_with_shipped_config(const std::string& quirks) {
  emulator emu({"--quirks", quirks});
  scratch_database db;
  auto r = run_shipped_sync(emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db);
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status = 'succeeded'") == "9");
  CHECK(db.scalar("SELECT count(*) FROM analytics.campaigns") == "80");
  auto stats = emu.stats();
  INFO(stats);
  return json_int(stats, "/v1/accounts/current/campaigns");
}

}  // namespace

TEST_CASE("the shipped config/analytics.yaml syncs wrapped campaigns; totalCount ends the scan") {
  // 80 campaigns, 50 a page: offsets 0 and 50. The first page's totalCount
  // says where the data ends, so no request confirms it with an empty page.
  CHECK(campaign_requests_with_shipped_config("wrapped,singletons,feed_order") == 2);
}

TEST_CASE("wrapped and capped: the shipped config loads every campaign, ending at totalCount") {
  // Capped at 25 a page, and empty pages without _data elsewhere: offsets 0,
  // 25, 50 and 75, nothing at or past the total of 80.
  CHECK(campaign_requests_with_shipped_config(
            "wrapped,page_cap,empty_no_data,singletons,feed_order") == 4);
}

TEST_CASE("a selector that lands on a wrapper fails that resource only, naming the keys") {
  emulator emu({"--quirks", "wrapped,singletons,feed_order"});
  scratch_database db;
  auto r = run_sync(analytics_yaml({}), emu, db);
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(r.log.find("partialCollection") != std::string::npos);
  CHECK(r.log.find("event=summary resource=campaigns status=failed") != std::string::npos);
  CHECK(r.log.find("event=summary resource=users status=ok") != std::string::npos);
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status = 'failed'") == "1");
  check_tables_equal_truth(emu, db, {"users", "labels", "accounts_feeds", "smartcode"});
}

TEST_CASE("HTTPS with the test CA works; an untrusted certificate is refused with a clear error") {
  {
    emulator::options eo;
    eo.tls = true;
    emulator emu(eo);
    scratch_database db;
    config_options o;
    o.ca_file = emu.ep().ca_file;
    auto r = run_sync(analytics_yaml(o), emu, db);
    INFO(r.log);
    REQUIRE(r.status == 0);
    check_tables_equal_truth(emu, db);
  }
  {
    emulator::options eo;
    eo.tls = true;
    eo.untrusted_cert = true;
    emulator emu(eo);
    scratch_database db;
    config_options o;
    o.ca_file = emu.ep().ca_file;
    auto r = run_sync(analytics_yaml(o), emu, db);
    INFO(r.log);
    CHECK(r.status == 1);
    CHECK(r.log.find("certificate") != std::string::npos);
    // Nothing was requested past the handshake.
    auto insecure = emu.ep();
    insecure.verify = false;
    CHECK(http_request(insecure, "GET", "/__stats").body.find("\"requests_total\":0") !=
          std::string::npos);
  }
}

TEST_CASE("a wrong API key: exit 1, the server's message, no retries, the key never logged") {
  emulator emu;
  scratch_database db;
  auto r = run_sync(analytics_yaml({}), emu, db, {}, {{"ANALYTICS_API_KEY", "wrong-key-123"}});
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(r.log.find("Invalid API token") != std::string::npos);
  CHECK(r.log.find("401") != std::string::npos);
  CHECK(r.log.find("wrong-key-123") == std::string::npos);
  CHECK(r.log.find("event=retry") == std::string::npos);
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status = 'failed'") == "9");
}

TEST_CASE("errors inside a 200 are errors, never an empty collection") {
  emulator emu({"--quirks", "errors_in_200,singletons,feed_order"});
  scratch_database db;
  auto r = run_sync(analytics_yaml({}), emu, db, {}, {{"ANALYTICS_API_KEY", "nope"}});
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(r.log.find("Invalid API token") != std::string::npos);
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_state WHERE last_success_at IS NOT NULL") ==
        "0");
}

TEST_CASE("records added, changed and removed between two syncs reach the tables") {
  emulator emu;
  scratch_database db;
  REQUIRE(run_sync(analytics_yaml({}), emu, db).status == 0);
  auto m = emu.mutate(R"({"ops":[
      {"op":"add","resource":"users","count":7,"position":"back"},
      {"op":"add","resource":"labels","count":3,"position":"front"},
      {"op":"change","resource":"campaigns","count":5},
      {"op":"change","resource":"custom_widgets","count":4},
      {"op":"add","resource":"accounts_feeds","count":12,"position":"front"},
      {"op":"remove","resource":"accounts","count":2,"position":"front"},
      {"op":"remove","resource":"custom_widgets","count":3,"position":"spread"},
      {"op":"remove","resource":"accounts_feeds","count":1,"position":"back"}]})");
  REQUIRE(m.status == 200);
  auto r = run_sync(analytics_yaml({}), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  // Removed records are kept as rows marked _rs_deleted_at, which the
  // comparison with the truth leaves out.
  check_tables_equal_truth(emu, db);
  CHECK(db.scalar("SELECT count(*) FROM analytics.accounts WHERE _rs_deleted_at IS NOT NULL") ==
        "2");
  CHECK(db.scalar("SELECT count(*) FROM analytics.custom_widgets WHERE _rs_deleted_at IS NOT "
                  "NULL") == "3");
  CHECK(db.scalar("SELECT count(*) FROM analytics.accounts_feeds WHERE _rs_deleted_at IS NOT "
                  "NULL") == "1");
  CHECK(db.scalar("SELECT inserted FROM analytics._rs_runs WHERE resource = 'users' ORDER BY id "
                  "DESC LIMIT 1") == "7");
  CHECK(db.scalar("SELECT updated FROM analytics._rs_runs WHERE resource = 'campaigns' ORDER BY "
                  "id DESC LIMIT 1") == "5");
}

TEST_CASE("transient faults are retried and nothing is lost") {
  emulator emu({"--faults", "5xx=0.05,reset=0.05,truncate=0.05,malformed=0.05", "--seed", "7"});
  scratch_database db;
  config_options o;
  o.max_retries = 8;
  auto r = run_sync(analytics_yaml(o), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db);
  CHECK(r.log.find("event=retry") != std::string::npos);
}

TEST_CASE("a rate limit of 2 rps holds and no resource is starved") {
  emulator emu({"--rate-limit", "2"});
  scratch_database db;
  config_options o;
  o.rate = 2;
  auto r = run_sync(analytics_yaml(o), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db);
  auto stats = emu.stats();
  INFO(stats);
  // Our gate and the server's bucket run on different clocks, so a request
  // may arrive a hair early now and then; the limit itself must hold.
  CHECK(json_int(stats, "max_admitted_1s") <= 4);  // 2 rps + a burst of 2 in any 1 s window
  CHECK(json_int(stats, "rate_limited") <= 3);
  // Fairness: the singletons need one request each and must not wait for the
  // big resources to finish paging.
  auto pos = [&](const std::string& name) {
    return r.log.find("event=summary resource=" + name + " ");
  };
  for (const char* small : {"smartcode", "thresholds", "integrations"})
    for (const char* big : {"users", "campaigns", "accounts_feeds", "labels", "custom_widgets"}) {
      INFO(small, " vs ", big);
      CHECK(pos(small) < pos(big));
    }
}

TEST_CASE("429 storms with every Retry-After form: waited out, everybody paused, nothing lost") {
  for (const char* form : {"seconds", "date", "zero", "none", "mixed"}) {
    CAPTURE(form);
    emulator emu({"--faults", "429=0.2", "--retry-after", form, "--seed", "3"});
    scratch_database db;
    config_options o;
    o.min_rate_limit_wait = "200ms";
    auto r = run_sync(analytics_yaml(o), emu, db);
    INFO(r.log);
    REQUIRE(r.status == 0);
    check_tables_equal_truth(emu, db);
    auto stats = emu.stats();
    INFO(stats);
    CHECK(json_int(stats, "rate_limited") > 0);
    // Each 429 is waited out (and pauses everybody): a tight retry loop on
    // `Retry-After: 0` or none would pile up 429s far beyond the ~20% that
    // the fault rate sends.
    CHECK(json_int(stats, "rate_limited") * 2 <= json_int(stats, "requests_total"));
    CHECK(r.log.find("status=429") != std::string::npos);
  }
}

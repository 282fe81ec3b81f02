// What a sync costs in requests, and how what restsync learns about a
// resource's paging stays safe (issue 12): the shipped configuration against
// the emulator over real sockets, into a real PostgreSQL. At about one
// request per second every request the data does not need is a second.
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "sync_harness.hpp"

using namespace rs_test;

namespace {

bool is_singleton(const std::string& resource) {
  return resource == "smartcode" || resource == "thresholds" || resource == "integrations";
}

// The requests the emulator's data needs at a limit of 50, campaigns capped
// at `cap`: every page, plus one request to confirm the end where nothing
// else proves it (a single short page, which may be capped; a last page
// that came back full). bench/rate-limit counts the same way.
long long needed_requests(const emulator& emu, long long cap = 50) {
  long long n = 0;
  for (const auto& r : analytics_resources()) {
    if (is_singleton(r.name)) {
      ++n;
      continue;
    }
    rapidjson::Document d;
    d.Parse(emu.truth(r.name).c_str());
    REQUIRE(d.IsArray());
    const long long records = d.Size();
    const long long served = r.name == "campaigns" ? std::min(50LL, cap) : 50;
    const long long pages = std::max(1LL, (records + served - 1) / served);
    const bool confirm = records > 0 && (records % served == 0 || records < served);
    n += pages + (confirm ? 1 : 0);
  }
  return n;
}

void reset_stats(const emulator& emu) {
  REQUIRE(http_request(emu.ep(), "POST", "/__stats/reset").status == 200);
}

void set_emulator(const emulator& emu, const std::string& json) {
  REQUIRE(http_request(emu.ep(), "POST", "/__config", {}, json).status == 200);
}

std::string state_of(const scratch_database& db, const std::string& resource,
                     const std::string& column) {
  return db.scalar("SELECT coalesce(" + column + "::text, 'null') FROM analytics._rs_state " +
                   "WHERE resource = '" + resource + "'");
}

std::string deleted_rows(const scratch_database& db, const std::string& table) {
  return db.scalar("SELECT count(*) FROM analytics." + table + " WHERE _rs_deleted_at IS NOT NULL");
}

void sync_ok(const std::string& yaml, const emulator& emu, const scratch_database& db) {
  auto r = run_sync(yaml, emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db);
}

// The gate at 4 requests/s: every answer arrives long before the next grant,
// so a request past an end learnt meanwhile is withdrawn unsent, as at the
// API's own one per second, in a quarter of the time.
const std::string four_per_second = "  rate_limit: {requests_per_second: 4}\n";
const std::string cap_on = R"({"quirks":"singletons,feed_order,page_cap","page_cap":25})";

// Every resource merged and read whole in every run (no incremental
// window), so that every run proves deletions.
// rate: the gate's (0: none).
std::string merge_everything(double rate = 0) {
  config_options o;
  o.rate = rate;
  return analytics_yaml(o);
}

}  // namespace

TEST_CASE("a sync sends every page once, and only the confirmations nothing can replace") {
  emulator emu;
  scratch_database db;
  const auto yaml = shipped_config_with(four_per_second);
  sync_ok(yaml, emu, db);
  const long long needed = needed_requests(emu);
  CHECK(needed == 16);  // the default sizes: 15 pages, and the end of accounts' 3 records
  CHECK(json_int(emu.stats(), "requests_total") == needed);
  CHECK(json_int(emu.stats(), "rate_limited") == 0);
  // Each resource's page size is learnt where a full page showed it.
  for (const char* r : {"accounts_feeds", "users", "campaigns", "custom_widgets", "labels"})
    CHECK(state_of(db, r, "page_size") == "50");
  CHECK(state_of(db, "accounts", "page_size") == "null");  // 3 records show none

  // A second sync costs less: the feed, newest first, stops at its first
  // page, which reaches past the cursor.
  reset_stats(emu);
  sync_ok(yaml, emu, db);
  const long long second = json_int(emu.stats(), "requests_total");
  CHECK(second == needed - 2);
  CHECK(deleted_rows(db, "campaigns") == "0");

  SUBCASE("with stop_on_short_page: false every end is confirmed") {
    std::string confirming = yaml;
    const std::string from = "offset_param: offset,";
    const std::string to = "offset_param: offset, stop_on_short_page: false,";
    for (auto at = confirming.find(from); at != std::string::npos;
         at = confirming.find(from, at + to.size()))
      confirming.replace(at, from.size(), to);
    reset_stats(emu);
    sync_ok(confirming, emu, db);
    // One more request for each resource whose scan ended on a short page:
    // users, campaigns, custom_widgets and labels (accounts' one page is
    // confirmed anyway, the feed stops at its cursor).
    CHECK(json_int(emu.stats(), "requests_total") == second + 4);
  }
  SUBCASE("once a day a short page's end is asked anyway") {
    db.query("UPDATE analytics._rs_state SET short_page_checked_at = now() - interval '25 hours'");
    reset_stats(emu);
    auto r = run_sync(yaml, emu, db);
    INFO(r.log);
    REQUIRE(r.status == 0);
    CHECK(r.log.find("event=short_page_check resource=campaigns") != std::string::npos);
    // The same four resources.
    CHECK(json_int(emu.stats(), "requests_total") == second + 4);
    CHECK(db.scalar("SELECT count(*) FROM analytics._rs_state WHERE short_page_checked_at > "
                    "now() - interval '1 hour'") == "4");
  }
}

TEST_CASE("with a silent page cap every row loads, at the cost of its pages only") {
  emulator emu({"--quirks", "singletons,feed_order,page_cap"});
  scratch_database db;
  sync_ok(shipped_config_with(four_per_second), emu, db);
  // campaigns: 80 records in pages of 25, the first one short of the limit
  // and so asked past; the last one (5) shorter than the pages before it.
  CHECK(needed_requests(emu, 25) == 18);
  CHECK(json_int(emu.stats(), "requests_total") == needed_requests(emu, 25));
  CHECK(state_of(db, "campaigns", "page_size") == "25");
}

TEST_CASE(
    "a cap switched on, changed and lifted between syncs: no row lost, none falsely deleted") {
  emulator emu;
  scratch_database db;
  const auto yaml = merge_everything();
  sync_ok(yaml, emu, db);
  CHECK(state_of(db, "campaigns", "page_size") == "50");

  // Three campaigns go away, and the API starts capping at 25: the first
  // page (25) is short of what was learnt, so it proves nothing; the rows
  // that went are the only ones marked.
  auto m = emu.mutate(R"({"ops":[{"op":"remove","resource":"campaigns","count":3}]})");
  REQUIRE(m.status == 200);
  set_emulator(emu, cap_on);
  sync_ok(yaml, emu, db);
  CHECK(deleted_rows(db, "campaigns") == "3");
  CHECK(state_of(db, "campaigns", "page_size") == "25");
  CHECK(state_of(db, "campaigns", "page_sizes_vary") == "false");

  for (const char* cap : {"30", "7", "60"}) {
    CAPTURE(cap);
    set_emulator(emu, std::string(R"({"page_cap":)") + cap + "}");
    sync_ok(yaml, emu, db);
    CHECK(deleted_rows(db, "campaigns") == "3");
    CHECK(state_of(db, "campaigns", "page_size") == (std::string(cap) == "60" ? "50" : cap));
  }
  set_emulator(emu, R"({"quirks":"singletons,feed_order"})");
  sync_ok(yaml, emu, db);
  CHECK(deleted_rows(db, "campaigns") == "3");
  CHECK(state_of(db, "campaigns", "page_size") == "50");
}

TEST_CASE(
    "a cap switched on in the middle of a scan: rows are not marked deleted on a short page") {
  emulator emu({"--latency-ms", "150"});
  scratch_database db;
  const auto yaml = merge_everything();
  sync_ok(yaml, emu, db);

  // As soon as the first page of campaigns has been asked for, the API
  // starts capping at 25: the page at 50 comes back with 25 of the 30
  // records there, shorter than the 50 before it. Taken for the end, it
  // would leave 5 rows unseen; the check before marking deletions reads
  // past it, and the run scans again, confirming every end.
  reset_stats(emu);  // before the switcher looks at them
  std::atomic<bool> done{false};
  std::thread switcher([&] {
    const std::string path = "\"/v1/accounts/current/campaigns\":";
    while (!done) {
      auto stats = emu.stats();
      auto at = stats.find(path);
      if (at != std::string::npos && std::stoll(stats.substr(at + path.size())) >= 1) {
        set_emulator(emu, cap_on);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  auto r = run_sync(yaml, emu, db);
  done = true;
  switcher.join();
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db);
  CHECK(deleted_rows(db, "campaigns") == "0");
  CHECK(r.log.find("event=page_sizes_vary resource=campaigns") != std::string::npos);
  CHECK(state_of(db, "campaigns", "page_sizes_vary") == "true");

  // The next sync confirms every end of campaigns, finds the cap steady,
  // and trusts short pages again.
  sync_ok(yaml, emu, db);
  CHECK(deleted_rows(db, "campaigns") == "0");
  CHECK(state_of(db, "campaigns", "page_sizes_vary") == "false");
  CHECK(state_of(db, "campaigns", "page_size") == "25");
}

TEST_CASE("a record served twice where it stands: one scan more once, none after") {
  // Labels serve their first record again at position 52: one key on two
  // pages, in every scan. Moving data looks the same in one scan; a second
  // that meets the same key twice shows it holds still.
  emulator emu({"--quirks", "singletons,feed_order,duplicate"});
  scratch_database db;
  const auto yaml = merge_everything(4);  // no request past an end (see four_per_second)
  const std::string labels_path = "/v1/accounts/current/labels";
  auto last_run = [&](const std::string& column) {
    return db.scalar("SELECT " + column +
                     " FROM analytics._rs_runs WHERE resource = 'labels' ORDER BY id DESC LIMIT 1");
  };
  auto labels_requests = [&] {
    auto stats = emu.stats();
    auto at = stats.find("\"" + labels_path + "\":");
    REQUIRE(at != std::string::npos);
    return std::stoll(stats.substr(at + labels_path.size() + 3));
  };

  reset_stats(emu);
  sync_ok(yaml, emu, db);
  CHECK(last_run("rescans") == "1");
  CHECK(last_run("complete_scan") == "t");
  CHECK(labels_requests() == 4);  // two scans of two pages
  CHECK(state_of(db, "labels", "stable_repeats") == "1");

  // Later syncs: one scan, and deletions still proven.
  reset_stats(emu);
  sync_ok(yaml, emu, db);
  CHECK(last_run("rescans") == "0");
  CHECK(labels_requests() == 2);
  auto m = emu.mutate(R"({"ops":[{"op":"remove","resource":"labels","count":2}]})");
  REQUIRE(m.status == 200);
  reset_stats(emu);
  auto r = run_sync(yaml, emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db);
  CHECK(r.log.find("event=offset_drift resource=labels") == std::string::npos);
  CHECK(last_run("rescans") == "0");
  CHECK(deleted_rows(db, "labels") == "2");
  CHECK(labels_requests() == 3);  // two pages, and the re-read before marking

  // The duplicate gone: the next sync finds no key twice and forgets it.
  set_emulator(emu, R"({"quirks":"singletons,feed_order"})");
  sync_ok(yaml, emu, db);
  CHECK(state_of(db, "labels", "stable_repeats") == "0");
}

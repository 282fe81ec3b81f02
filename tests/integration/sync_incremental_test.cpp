// Incremental cursors, write dispositions and deletions end to end: restsyncd
// against the emulator and a real PostgreSQL, with /__mutate between (and
// during) syncs, and the tables checked against /__truth each time.
#include <atomic>
#include <regex>
#include <set>
#include <thread>

#include "sync_harness.hpp"

using namespace rs_test;

namespace {

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// The ids of "removed":[…] (or another list) in a /__mutate answer.
std::vector<std::string> ids_in(const std::string& body, const std::string& list) {
  std::vector<std::string> out;
  auto at = body.find("\"" + list + "\":[");
  if (at == std::string::npos) return out;
  auto end = body.find(']', at);
  std::string inner = body.substr(at + list.size() + 4, end - at - list.size() - 4);
  std::regex item("\"?([^,\"]+)\"?");
  for (auto it = std::sregex_iterator(inner.begin(), inner.end(), item);
       it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

long long requests_to(const emulator& emu, const std::string& path) {
  auto stats = emu.stats();
  auto at = stats.find("\"" + path + "\":");
  if (at == std::string::npos) return 0;
  return std::stoll(stats.substr(at + path.size() + 3));
}

void reset_stats(const emulator& emu) {
  REQUIRE(http_request(emu.ep(), "POST", "/__stats/reset").status == 200);
}

std::string last_run(const scratch_database& db, const std::string& resource,
                     const std::string& column) {
  return db.scalar("SELECT " + column + " FROM analytics._rs_runs WHERE resource = '" + resource +
                   "' ORDER BY id DESC LIMIT 1");
}

std::string deleted_rows(const scratch_database& db, const std::string& table) {
  return db.scalar("SELECT count(*) FROM analytics." + table + " WHERE _rs_deleted_at IS NOT NULL");
}

const char* feed_path = "/v1/accounts/current/feeds";

}  // namespace

TEST_CASE("three syncs with changes between: cursors, the boundary, missing cursors, deletions") {
  emulator emu({"--seed", "5"});
  scratch_database db;
  config_options o;
  o.incremental = true;
  auto yaml = analytics_yaml(o);
  auto r = run_sync(yaml, emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db);
  const auto cursor =
      db.scalar("SELECT cursor_value FROM analytics._rs_state WHERE resource = 'accounts_feeds'");
  CHECK(cursor == db.scalar("SELECT max(\"when\")::text FROM analytics.accounts_feeds"));

  // New events, one of them at exactly the cursor's timestamp; changed
  // widgets (updatedAt moves) and one without updatedAt; labels and users
  // removed, users added.
  auto m = emu.mutate(R"({"ops":[
      {"op":"add","resource":"accounts_feeds","count":5},
      {"op":"add","resource":"accounts_feeds","record":{"when":)" +
                      cursor +
                      R"(,"type":"campaign","verb":"boundary","what":"same second"}},
      {"op":"change","resource":"custom_widgets","count":4},
      {"op":"add","resource":"custom_widgets","record":{"name":"no cursor"}},
      {"op":"remove","resource":"labels","count":3,"position":"spread"},
      {"op":"remove","resource":"users","count":2,"position":"front"},
      {"op":"add","resource":"users","count":2,"position":"back"}]})");
  REQUIRE(m.status == 200);
  auto removed = ids_in(m.body, "removed");
  REQUIRE(removed.size() == 5);
  r = run_sync(yaml, emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db);
  // The feed read only what is new: the boundary record is in (inclusive),
  // and the record at the old cursor is not inserted twice (append keeps keys).
  CHECK(last_run(db, "accounts_feeds", "inserted") == "6");
  // Widgets older than the cursor were left out rather than compared again:
  // written were the 4 changed, the one at the old cursor, the new one
  // without updatedAt and those the data set has without it (include).
  CHECK(std::stoll(last_run(db, "custom_widgets", "records")) ==
        4 + 1 +
            std::stoll(db.scalar(
                "SELECT count(*) FROM analytics.custom_widgets WHERE updated_at IS NULL")));
  CHECK(last_run(db, "custom_widgets", "updated") == "4");
  CHECK(deleted_rows(db, "labels") == "3");
  CHECK(deleted_rows(db, "users") == "2");
  CHECK(last_run(db, "labels", "deleted") == "3");

  // A removed label comes back: it loses its mark.
  auto back = emu.mutate(R"({"ops":[{"op":"add","resource":"labels","record":{"id":)" + removed[0] +
                         R"(,"name":"back again"}},
      {"op":"add","resource":"accounts_feeds","count":3},
      {"op":"change","resource":"custom_widgets","count":2}]})");
  REQUIRE(back.status == 200);
  r = run_sync(yaml, emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db);
  CHECK(deleted_rows(db, "labels") == "2");
  CHECK(db.scalar("SELECT name FROM analytics.labels WHERE id = " + removed[0]) == "back again");
  CHECK(last_run(db, "accounts_feeds", "inserted") == "3");
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status <> 'succeeded'") == "0");
}

TEST_CASE("the feed's second sync costs at most two requests when nothing is new") {
  emulator emu({"--records", "accounts_feeds=400"});
  scratch_database db;
  config_options o;
  o.incremental = true;
  REQUIRE(run_sync(analytics_yaml(o), emu, db).status == 0);
  // The first sync read the whole feed.
  CHECK(db.scalar("SELECT count(*) FROM analytics.accounts_feeds") == "400");
  reset_stats(emu);
  auto r = run_sync(analytics_yaml(o), emu, db, {"--resource", "accounts_feeds"});
  INFO(r.log);
  REQUIRE(r.status == 0);
  CHECK(requests_to(emu, feed_path) <= 2);
  CHECK(last_run(db, "accounts_feeds", "inserted") == "0");

  // Twelve new events: still only the pages down to the cursor.
  REQUIRE(emu.mutate(R"({"ops":[{"op":"add","resource":"accounts_feeds","count":12}]})").status ==
          200);
  reset_stats(emu);
  r = run_sync(analytics_yaml(o), emu, db, {"--resource", "accounts_feeds"});
  INFO(r.log);
  REQUIRE(r.status == 0);
  CHECK(requests_to(emu, feed_path) <= 2);
  CHECK(last_run(db, "accounts_feeds", "inserted") == "12");
  check_tables_equal_truth(emu, db, {"accounts_feeds"});

  // --full-refresh reads everything again and keeps the table.
  reset_stats(emu);
  r = run_sync(analytics_yaml(o), emu, db, {"--resource", "accounts_feeds", "--full-refresh"});
  INFO(r.log);
  REQUIRE(r.status == 0);
  CHECK(requests_to(emu, feed_path) >= 412 / 50);
  CHECK(last_run(db, "accounts_feeds", "records") == "412");
  CHECK(last_run(db, "accounts_feeds", "inserted") == "0");
  check_tables_equal_truth(emu, db, {"accounts_feeds"});
}

TEST_CASE("a record without its cursor value: raise fails the run by name, exclude leaves it out") {
  emulator emu;
  scratch_database db;
  config_options o;
  o.incremental = true;
  REQUIRE(run_sync(analytics_yaml(o), emu, db).status == 0);
  auto m = emu.mutate(
      R"({"ops":[{"op":"add","resource":"custom_widgets","record":{"name":"no cursor"}}]})");
  REQUIRE(m.status == 200);
  auto id = ids_in(m.body, "added").at(0);
  const std::string include = "{cursor_path: updatedAt, on_cursor_value_missing: include}";
  auto r = run_sync(replaced(analytics_yaml(o), include,
                             "{cursor_path: updatedAt, on_cursor_value_missing: raise}"),
                    emu, db, {"--resource", "custom_widgets"});
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(r.log.find("has no cursor value at updatedAt") != std::string::npos);
  // The failed run kept its cursor where it was.
  CHECK(last_run(db, "custom_widgets", "status") == "failed");

  auto yaml = replaced(analytics_yaml(o), include,
                       "{cursor_path: updatedAt, on_cursor_value_missing: exclude}");
  r = run_sync(yaml, emu, db, {"--resource", "custom_widgets"});
  INFO(r.log);
  CHECK(r.status == 0);
  CHECK(db.scalar("SELECT count(*) FROM analytics.custom_widgets WHERE id = " + id) == "0");
}

TEST_CASE("deletions are marked only after a clean complete scan, never after a failed one") {
  emulator emu({"--quirks", "singletons,feed_order,errors_in_200", "--seed", "9"});
  scratch_database db;
  config_options o;
  o.max_retries = 0;
  o.extra_resource["labels"] = "    hard_delete: false\n";
  o.extra_resource["users"] = "    hard_delete: true\n";
  REQUIRE(run_sync(analytics_yaml(o), emu, db).status == 0);
  const auto users_before = db.scalar("SELECT count(*) FROM analytics.users");
  auto m = emu.mutate(R"({"ops":[{"op":"remove","resource":"labels","count":4,"position":"back"},
      {"op":"remove","resource":"users","count":3,"position":"spread"}]})");
  REQUIRE(m.status == 200);

  // A wrong key answered 200 with _errors: an error, not an empty collection.
  auto r = run_sync(analytics_yaml(o), emu, db, {}, {{"ANALYTICS_API_KEY", "wrong"}});
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(deleted_rows(db, "labels") == "0");
  CHECK(db.scalar("SELECT count(*) FROM analytics.users") == users_before);

  // Every request failing part-way: the scans end in an error.
  REQUIRE(http_request(emu.ep(), "POST", "/__config", {}, R"({"faults":"5xx=0.5"})").status == 200);
  r = run_sync(analytics_yaml(o), emu, db);
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE deleted > 0") == "0");
  CHECK(deleted_rows(db, "labels") == "0");
  CHECK(db.scalar("SELECT count(*) FROM analytics.users") == users_before);

  // A clean scan marks them (labels) or deletes them (users: hard_delete).
  REQUIRE(http_request(emu.ep(), "POST", "/__config", {}, R"({"faults":"none"})").status == 200);
  r = run_sync(analytics_yaml(o), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  CHECK(deleted_rows(db, "labels") == "4");
  CHECK(std::stoll(db.scalar("SELECT count(*) FROM analytics.users")) ==
        std::stoll(users_before) - 3);
  check_tables_equal_truth(emu, db);
}

TEST_CASE("replace: a concurrent reader never sees the table empty or half-filled") {
  emulator emu({"--records", "labels=2000", "--latency-ms", "5"});
  scratch_database db;
  config_options o;
  o.max_in_flight = 2;
  o.extra_resource["labels"] = "    write_disposition: replace\n";
  auto r = run_sync(analytics_yaml(o), emu, db, {"--resource", "labels"});
  INFO(r.log);
  REQUIRE(r.status == 0);
  CHECK(db.scalar("SELECT count(*) FROM analytics.labels") == "2000");
  REQUIRE(emu.mutate(R"({"ops":[{"op":"remove","resource":"labels","count":30,"position":"spread"},
      {"op":"add","resource":"labels","count":7,"position":"front"},
      {"op":"change","resource":"labels","count":5}]})")
              .status == 200);

  std::atomic<bool> done{false};
  std::set<std::string> seen_counts;
  std::thread reader([&] {
    while (!done) seen_counts.insert(db.scalar("SELECT count(*) FROM analytics.labels"));
  });
  r = run_sync(analytics_yaml(o), emu, db, {"--resource", "labels"});
  done = true;
  reader.join();
  INFO(r.log);
  REQUIRE(r.status == 0);
  for (const auto& c : seen_counts) MESSAGE("reader saw ", c, " rows");
  for (const auto& c : seen_counts) CHECK((c == "2000" || c == "1977"));
  CHECK(seen_counts.size() <= 2);
  check_tables_equal_truth(emu, db, {"labels"});
  // The staging table is gone.
  CHECK(db.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'analytics' AND tablename "
                  "LIKE '_rs_stage%'") == "0");
}

TEST_CASE("records inserted and removed at the front while a scan pages: nothing missed") {
  // Slow pages, so that the changes land in the middle of the scans.
  emulator emu({"--records", "labels=1500", "--latency-ms", "15", "--seed", "3"});
  scratch_database db;
  config_options o;
  o.max_in_flight = 2;
  REQUIRE(run_sync(analytics_yaml(o), emu, db, {"--resource", "labels"}).status == 0);

  int rescans = 0;
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    std::atomic<bool> done{false};
    std::thread mutator([&] {
      for (int i = 0; i < 6 && !done; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(60));
        emu.mutate(
            i % 2 == 0
                ? R"({"ops":[{"op":"remove","resource":"labels","count":2,"position":"front"}]})"
                : R"({"ops":[{"op":"add","resource":"labels","count":3,"position":"front"}]})");
      }
    });
    auto r = run_sync(analytics_yaml(o), emu, db, {"--resource", "labels"});
    done = true;
    mutator.join();
    INFO(r.log);
    REQUIRE(r.status == 0);
    rescans += std::stoi(last_run(db, "labels", "rescans"));
    // No record that exists is missing or marked deleted: the rows that
    // differ from the truth are only records removed during this sync.
    auto truth = emu.truth("labels");
    auto diffs = db.diff_with_truth("analytics", "labels", truth, {"id"});
    for (const auto& d : diffs) {
      INFO(d);
      CHECK(d.find("<not in truth>") != std::string::npos);
    }
  }
  MESSAGE("rescans over three syncs: ", rescans);
  // With the data holding still, one more sync ends exactly equal.
  auto r = run_sync(analytics_yaml(o), emu, db, {"--resource", "labels"});
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_tables_equal_truth(emu, db, {"labels"});
}

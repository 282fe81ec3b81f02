#include "restsync/observe/status_report.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

using namespace restsync;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

resource_status synced(std::string name, double age,
                       std::optional<std::chrono::milliseconds> max_age) {
  resource_status r;
  r.name = std::move(name);
  r.last_success_at = "2024-05-01T10:00:00Z";
  r.age_seconds = age;
  r.max_age = max_age;
  r.rows = 250;
  run_row run;
  run.id = 7;
  run.status = "succeeded";
  run.started_at = "2024-05-01T09:59:58Z";
  run.finished_at = "2024-05-01T10:00:00Z";
  run.seconds = 2.2;
  run.counts.records = 250;
  run.counts.inserted = 5;
  run.counts.updated = 2;
  run.counts.unchanged = 243;
  r.last_run = run;
  return r;
}

}  // namespace

TEST_CASE("stale: older than max_age, or never succeeded while it has one") {
  CHECK_FALSE(is_stale(synced("a", 59, 1min)));
  CHECK(is_stale(synced("a", 61, 1min)));
  CHECK_FALSE(is_stale(synced("a", 1e9, std::nullopt)));
  resource_status never;
  never.name = "n";
  CHECK_FALSE(is_stale(never));
  never.max_age = 1h;
  CHECK(is_stale(never));
  auto gone = synced("g", 1e9, 1min);
  gone.configured = false;
  CHECK_FALSE(is_stale(gone));
}

TEST_CASE("the state column") {
  CHECK(state_of(synced("a", 5, 1h)) == "ok");
  CHECK(state_of(synced("a", 5000, 1h)) == "stale");
  auto failing = synced("a", 5, 1h);
  failing.last_run->status = "failed";
  CHECK(state_of(failing) == "failing");
  auto running = synced("a", 5, 1h);
  running.last_run->status = "running";
  CHECK(state_of(running) == "running");
  resource_status never;
  CHECK(state_of(never) == "never synced");
  auto gone = synced("a", 5, 1h);
  gone.configured = false;
  CHECK(state_of(gone) == "not configured");
}

TEST_CASE("ages show their two largest units") {
  CHECK(format_age(0) == "0s");
  CHECK(format_age(42.4) == "42s");
  CHECK(format_age(192) == "3m12s");
  CHECK(format_age(3600) == "1h");
  CHECK(format_age(5 * 3600 + 4 * 60 + 59) == "5h4m");
  CHECK(format_age(2 * 86400 + 3 * 3600 + 59) == "2d3h");
  CHECK(format_age(86400 + 5) == "1d");
  CHECK(format_age(-3) == "0s");
}

TEST_CASE("the table: aligned columns and the last errors below") {
  auto users = synced("users", 192, 1h);
  auto campaigns = synced("campaigns", 7300, 1h);
  campaigns.last_run->status = "failed";
  campaigns.last_run->error = "campaigns: GET /v1/campaigns failed: 503: busy";
  users.cursor = "1700000000";
  resource_status labels;
  labels.name = "labels";
  const std::string t = format_status_table({users, campaigns, labels}, "analytics");
  INFO(t);
  CHECK(contains(t, "schema analytics: 3 resources\n"));
  CHECK(contains(t,
                 "RESOURCE   STATE         LAST SUCCESS (UTC)    AGE    MAX AGE  ROWS  CURSOR      "
                 "LAST RUN\n"));
  CHECK(contains(t,
                 "users      ok            2024-05-01T10:00:00Z  3m12s  1h       250   1700000000  "
                 "succeeded in 2s: "
                 "250 records, +5 ~2 =243\n"));
  CHECK(contains(
      t,
      "campaigns  stale         2024-05-01T10:00:00Z  2h1m   1h       250   -           failed"));
  CHECK(contains(
      t, "labels     never synced  -                     -      -        -     -           -\n"));
  CHECK(contains(t,
                 "last errors:\n  campaigns (2024-05-01T10:00:00Z): campaigns: GET /v1/campaigns "
                 "failed: 503: busy\n"));
}

TEST_CASE("JSON for scripts") {
  auto users = synced("users", 192.5, 1h);
  users.cursor = "2024-05-01T09:00:00Z";
  users.deleted_rows = 3;
  users.last_run->counts.deleted = 2;
  resource_status labels;
  labels.name = "labels";
  labels.max_age = 30min;
  labels.last_error = "labels: \"quoted\" failure";
  const std::string j = format_status_json({users, labels}, "an\"alytics");
  rapidjson::Document d;
  d.Parse(j.c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["schema"].GetString()) == "an\"alytics");
  CHECK(d["stale"].GetBool());
  const auto& rs = d["resources"];
  REQUIRE(rs.Size() == 2);
  CHECK(std::string(rs[0]["resource"].GetString()) == "users");
  CHECK(std::string(rs[0]["state"].GetString()) == "ok");
  CHECK(rs[0]["age_seconds"].GetDouble() == 192.5);
  CHECK(rs[0]["max_age_seconds"].GetDouble() == 3600);
  CHECK(rs[0]["rows"].GetInt64() == 250);
  CHECK(rs[0]["last_run"]["inserted"].GetInt64() == 5);
  CHECK(std::string(rs[0]["cursor"].GetString()) == "2024-05-01T09:00:00Z");
  CHECK(rs[0]["deleted_rows"].GetInt64() == 3);
  CHECK(rs[0]["last_run"]["deleted"].GetInt64() == 2);
  CHECK(rs[0]["last_run"]["rescans"].GetInt64() == 0);
  CHECK(rs[0]["last_run"]["ignored"].GetInt64() == 0);
  CHECK(rs[1]["cursor"].IsNull());
  CHECK(rs[1]["deleted_rows"].IsNull());
  CHECK(std::string(rs[0]["last_run"]["status"].GetString()) == "succeeded");
  CHECK(rs[1]["last_success_at"].IsNull());
  CHECK(rs[1]["stale"].GetBool());
  CHECK(rs[1]["last_run"].IsNull());
  CHECK(std::string(rs[1]["last_error"].GetString()) == "labels: \"quoted\" failure");
}

TEST_CASE("the rate gate as the newest run left it: table line and JSON") {
  auto users = synced("users", 10, 1h);
  auto labels = synced("labels", 20, 1h);
  users.last_run->id = 8;
  users.last_run->gate_rate = 0.7;
  labels.last_run->gate_rate = 1;  // run 7: older
  const std::string t = format_status_table({labels, users}, "analytics");
  INFO(t);
  CHECK(contains(t, "\nrate gate at the end of the latest run (users, run 8): 0.7 requests/s\n"));
  rapidjson::Document d;
  d.Parse(format_status_json({labels, users}, "analytics").c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(d["gate_rate"].GetDouble() == 0.7);
  CHECK(d["resources"][0]["last_run"]["gate_rate"].GetDouble() == 1);
  // No limit at all, and runs from before the gate was recorded.
  users.last_run->gate_rate = 0;
  CHECK(contains(format_status_table({users}, "analytics"),
                 "rate gate at the end of the latest run (users, run 8): no limit\n"));
  users.last_run->gate_rate.reset();
  CHECK_FALSE(contains(format_status_table({users}, "analytics"), "rate gate"));
  d.Parse(format_status_json({users}, "analytics").c_str());
  CHECK(d["gate_rate"].IsNull());
  CHECK(d["resources"][0]["last_run"]["gate_rate"].IsNull());
}

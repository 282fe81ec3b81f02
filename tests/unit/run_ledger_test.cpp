#include "restsync/observe/run_ledger.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "restsync/observe/metrics_text.hpp"

using namespace restsync;
using namespace std::chrono_literals;

namespace {

config two_resources(std::optional<std::chrono::milliseconds> max_age = std::nullopt) {
  config c;
  for (const char* name : {"users", "labels"}) {
    resource_config r;
    r.name = name;
    r.max_age = max_age;
    c.resources.push_back(r);
  }
  return c;
}

run_outcome ok_run(std::int64_t inserted = 3) {
  run_outcome r;
  r.ok = true;
  r.counts.pages = 2;
  r.counts.records = 10;
  r.counts.inserted = inserted;
  r.counts.updated = 1;
  r.counts.unchanged = 10 - inserted - 1;
  r.counts.requests = 3;
  r.counts.responses_by_status = {{200, 3}};
  r.counts.gate_wait_seconds = 0.25;
  r.counts.seconds = 1.5;
  return r;
}

run_outcome failed_run(std::string error) {
  run_outcome r;
  r.ok = false;
  r.error = std::move(error);
  r.counts.requests = 4;
  r.counts.responses_by_status = {{429, 1}, {503, 2}};
  r.counts.transport_errors = 1;
  r.counts.retries = 3;
  r.counts.rate_limited = 1;
  r.counts.seconds = 0.5;
  return r;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const auto t0 = wall_clock::time_point{} + std::chrono::hours(24 * 365 * 50);

}  // namespace

TEST_CASE("the status line counts resources by state and names the failing ones") {
  run_ledger l(t0);
  l.configure(two_resources());
  CHECK(l.status_line(t0) == "2 resources: 0 ok, 2 not run yet");
  l.started("users");
  CHECK(l.status_line(t0) == "2 resources: 0 ok, 2 not run yet; 1 running");
  l.finished("users", ok_run(), t0 + 1s);
  l.finished("labels", failed_run("labels: GET /v1/labels failed: 503"), t0 + 2s);
  CHECK(l.status_line(t0 + 3s) == "2 resources: 1 ok, 1 failing (labels)");
  CHECK(l.find("labels")->consecutive_failures == 1);
  l.finished("labels", failed_run("again"), t0 + 4s);
  CHECK(l.find("labels")->consecutive_failures == 2);
  l.finished("labels", ok_run(), t0 + 5s);
  CHECK(l.find("labels")->consecutive_failures == 0);
  CHECK(l.status_line(t0 + 6s) == "2 resources: 2 ok");
}

TEST_CASE("many failing resources are named up to three") {
  config c;
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    resource_config r;
    r.name = name;
    c.resources.push_back(r);
  }
  run_ledger l(t0);
  l.configure(c);
  for (const char* name : {"a", "b", "c", "d", "e"}) l.finished(name, failed_run("x"), t0);
  CHECK(l.status_line(t0) == "5 resources: 0 ok, 5 failing (a, b, c and 2 more)");
}

TEST_CASE("a reload keeps what is known of resources that stay and forgets removed ones") {
  run_ledger l(t0);
  l.configure(two_resources());
  l.finished("users", ok_run(), t0 + 1s);
  l.finished("labels", ok_run(), t0 + 1s);
  config next = two_resources();
  next.resources.erase(next.resources.begin() + 1);
  resource_config added;
  added.name = "campaigns";
  next.resources.push_back(added);
  l.configure(next);
  REQUIRE(l.resources().size() == 2);
  CHECK(l.resources()[0].name == "users");
  CHECK(l.resources()[0].runs_succeeded == 1);
  CHECK(l.resources()[1].name == "campaigns");
  CHECK(l.resources()[1].runs_succeeded == 0);
  CHECK(l.find("labels") == nullptr);
  // A run of a removed resource that ends after the reload is ignored.
  l.finished("labels", ok_run(), t0 + 2s);
  CHECK(l.find("labels") == nullptr);
}

TEST_CASE("staleness: past max_age since the last success, or since start-up; reported once") {
  run_ledger l(t0);
  l.configure(two_resources(10min));
  l.remember_success("users", t0 - 9min);
  CHECK(l.take_newly_stale(t0).empty());
  // users turns stale one minute (and a millisecond) after start; labels,
  // never synced, ten minutes after start.
  REQUIRE(l.next_stale_at());
  CHECK(*l.next_stale_at() == t0 + 1min + 1ms);
  auto first = l.take_newly_stale(t0 + 1min + 1ms);
  REQUIRE(first.size() == 1);
  CHECK(first[0].name == "users");
  CHECK(first[0].age == 10min + 1ms);
  CHECK(first[0].max_age == 10min);
  CHECK_FALSE(first[0].never_succeeded);
  CHECK(l.take_newly_stale(t0 + 2min).empty());  // not twice
  CHECK(*l.next_stale_at() == t0 + 10min + 1ms);
  auto second = l.take_newly_stale(t0 + 11min);
  REQUIRE(second.size() == 1);
  CHECK(second[0].name == "labels");
  CHECK(second[0].never_succeeded);
  CHECK_FALSE(l.next_stale_at());
  CHECK(contains(l.status_line(t0 + 11min), "2 older than max_age"));

  // A success ends the staleness; the next one is reported again.
  l.finished("users", ok_run(), t0 + 12min);
  CHECK_FALSE(l.stale(*l.find("users"), t0 + 12min));
  CHECK(*l.next_stale_at() == t0 + 22min + 1ms);
  CHECK(l.take_newly_stale(t0 + 23min).size() == 1);
}

TEST_CASE("without max_age a resource is never stale") {
  run_ledger l(t0);
  l.configure(two_resources());
  CHECK_FALSE(l.next_stale_at());
  CHECK(l.take_newly_stale(t0 + 10000h).empty());
}

TEST_CASE("remember_success keeps the latest") {
  run_ledger l(t0);
  l.configure(two_resources());
  l.remember_success("users", t0 - 1h);
  l.remember_success("users", t0 - 2h);
  CHECK(*l.find("users")->last_success == t0 - 1h);
  l.remember_success("nobody", t0);  // not configured: ignored
}

TEST_CASE("metrics: per resource counters, last success, staleness and the process") {
  run_ledger l(t0);
  l.configure(two_resources(1h));
  l.finished("users", ok_run(3), t0 + 1s);
  auto incremental = ok_run(0);
  incremental.counts.filtered = 6;
  incremental.counts.deleted = 2;
  incremental.counts.rescans = 1;
  l.finished("users", incremental, t0 + 2s);
  l.finished("labels", failed_run("boom"), t0 + 3s);
  l.reloaded(true);
  l.reloaded(false);
  l.reloaded(false);
  live_stats live;
  live.in_flight["users"] = 2;
  live.gate_allowed_rate = 0.7;
  live.gate_configured_rate = 2;
  process_stats p;
  p.resident_bytes = 12345678;
  p.open_fds = 17;
  const std::string m = render_metrics(l, live, p, t0 + 2h);
  const double success = std::chrono::duration<double>((t0 + 2s).time_since_epoch()).count();
  CHECK(contains(m, "# TYPE restsync_last_success_timestamp_seconds gauge\n"));
  CHECK(contains(m, "restsync_last_success_timestamp_seconds{resource=\"users\"} " +
                        fmt::format("{}", success) + "\n"));
  CHECK_FALSE(contains(m, "restsync_last_success_timestamp_seconds{resource=\"labels\"}"));
  CHECK(contains(m, "restsync_records_total{resource=\"users\",outcome=\"inserted\"} 3\n"));
  CHECK(contains(m, "restsync_records_total{resource=\"users\",outcome=\"updated\"} 2\n"));
  CHECK(contains(m, "restsync_records_total{resource=\"users\",outcome=\"unchanged\"} 15\n"));
  CHECK(contains(m, "restsync_runs_total{resource=\"users\",result=\"succeeded\"} 2\n"));
  CHECK(contains(m, "restsync_runs_total{resource=\"labels\",result=\"failed\"} 1\n"));
  CHECK(contains(m, "restsync_run_duration_seconds_sum{resource=\"users\"} 3\n"));
  CHECK(contains(m, "restsync_run_duration_seconds_count{resource=\"users\"} 2\n"));
  CHECK(contains(m, "restsync_requests_total{resource=\"labels\"} 4\n"));
  CHECK(contains(m, "restsync_retries_total{resource=\"labels\"} 3\n"));
  CHECK(contains(m, "restsync_rate_limited_total{resource=\"labels\"} 1\n"));
  CHECK(contains(m, "restsync_responses_total{resource=\"users\",status=\"200\"} 6\n"));
  CHECK(contains(m, "restsync_responses_total{resource=\"labels\",status=\"429\"} 1\n"));
  CHECK(contains(m, "restsync_responses_total{resource=\"labels\",status=\"503\"} 2\n"));
  CHECK_FALSE(contains(m, "restsync_responses_total{resource=\"users\",status=\"503\"}"));
  CHECK_FALSE(contains(m, "restsync_responses_total{resource=\"labels\",status=\"200\"}"));
  CHECK(contains(m, "restsync_transport_errors_total{resource=\"labels\"} 1\n"));
  CHECK(contains(m, "restsync_transport_errors_total{resource=\"users\"} 0\n"));
  CHECK(contains(m, "restsync_gate_wait_seconds_total{resource=\"users\"} 0.5\n"));
  CHECK(contains(m, "# TYPE restsync_requests_in_flight gauge\n"));
  CHECK(contains(m, "restsync_requests_in_flight{resource=\"users\"} 2\n"));
  CHECK(contains(m, "restsync_requests_in_flight{resource=\"labels\"} 0\n"));
  CHECK(contains(m, "# TYPE restsync_gate_allowed_requests_per_second gauge\n"));
  CHECK(contains(m, "restsync_gate_allowed_requests_per_second 0.7\n"));
  CHECK(contains(m, "# TYPE restsync_gate_configured_requests_per_second gauge\n"));
  CHECK(contains(m, "restsync_gate_configured_requests_per_second 2\n"));
  CHECK(contains(m, "restsync_records_filtered_total{resource=\"users\"} 6\n"));
  CHECK(contains(m, "restsync_rows_deleted_total{resource=\"users\"} 2\n"));
  CHECK(contains(m, "restsync_rescans_total{resource=\"users\"} 1\n"));
  CHECK(contains(m, "restsync_rescans_total{resource=\"labels\"} 0\n"));
  CHECK(contains(m, "restsync_consecutive_failures{resource=\"labels\"} 1\n"));
  CHECK(contains(m, "restsync_stale{resource=\"users\"} 1\n"));
  CHECK(contains(m, "restsync_stale{resource=\"labels\"} 1\n"));
  CHECK(contains(m, "restsync_config_reloads_total{result=\"refused\"} 2\n"));
  CHECK(contains(m, "process_resident_memory_bytes 12345678\n"));
  CHECK(contains(m, "process_open_fds 17\n"));
  // Every sample line belongs to a family declared before it.
  std::string declared;
  std::size_t pos = 0;
  while (pos < m.size()) {
    auto end = m.find('\n', pos);
    REQUIRE(end != std::string::npos);
    std::string line = m.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("# TYPE ", 0) == 0) {
      declared += " " + line.substr(7, line.find(' ', 7) - 7) + " ";
      continue;
    }
    if (line.rfind("# ", 0) == 0) continue;
    std::string name = line.substr(0, line.find_first_of("{ "));
    for (const char* suffix : {"_sum", "_count"})
      if (name.size() > 5 && name.ends_with(suffix) && !contains(declared, " " + name + " "))
        name = name.substr(0, name.size() - std::string(suffix).size());
    INFO(line);
    CHECK(contains(declared, " " + name + " "));
  }
}

TEST_CASE("label values are escaped") {
  CHECK(prometheus_label("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
}

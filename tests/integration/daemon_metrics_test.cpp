// The Prometheus endpoint: off by default, on loopback when metrics.listen
// is set, and scraped while the daemon runs.
#include <regex>
#include <set>
#include <sstream>

#include "daemon_harness.hpp"

using namespace rs_test;

namespace {

// The value of one sample line of a scrape, or nullopt.
std::optional<double> sample(const std::string& text, const std::string& series) {
  auto pos = text.find("\n" + series + " ");
  if (pos == std::string::npos) return std::nullopt;
  pos += series.size() + 2;
  return std::stod(text.substr(pos, text.find('\n', pos) - pos));
}

// The emulator's answers by HTTP status, from /__stats.
std::map<std::string, double> emulator_statuses(const emulator& emu) {
  const std::string stats = emu.stats();
  const std::string key = "\"status\":{";
  auto at = stats.find(key);
  REQUIRE(at != std::string::npos);
  at += key.size();
  std::map<std::string, double> out;
  std::regex entry(R"re("(\d+)":(\d+))re");
  const std::string body = stats.substr(at, stats.find('}', at) - at);
  for (std::sregex_iterator it(body.begin(), body.end(), entry), end; it != end; ++it)
    out[(*it)[1].str()] = std::stod((*it)[2].str());
  return out;
}

// TCP sockets in LISTEN state that the process holds.
int listening_sockets(int pid) {
  std::set<std::string> listening;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::vector<std::string> f;
      for (std::string x; fields >> x;) f.push_back(x);
      if (f.size() > 9 && f[3] == "0A") listening.insert(f[9]);
    }
  }
  int n = 0;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(e.path(), ec).string();
    if (target.rfind("socket:[", 0) == 0 && listening.count(target.substr(8, target.size() - 9)))
      ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("the metrics endpoint is scraped during a run of the daemon") {
  emulator emu;
  scratch_database db;
  daemon_options d;
  d.only = {"users", "labels"};
  d.intervals = {{"users", "1s"}};
  d.max_age = "1h";
  d.metrics_listen = "0";  // loopback, any free port
  daemon_process daemon(daemon_yaml({}, d), emu, db);
  INFO(daemon.log());
  REQUIRE(daemon.wait_log("event=metrics_listening"));
  const endpoint ep = metrics_endpoint(daemon);

  REQUIRE(eventually([&] { return runs_of(db, "users", "succeeded") >= 2; }, 60s));
  auto res = http_request(ep, "GET", "/metrics");
  REQUIRE(res.status == 200);
  CHECK(res.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = res.body;
  INFO(text);
  CHECK(text.find("# TYPE restsync_records_total counter") != std::string::npos);
  // What the metrics say matches what the database holds.
  CHECK(sample(text, "restsync_records_total{resource=\"users\",outcome=\"inserted\"}") ==
        std::stod(db.scalar("SELECT count(*) FROM analytics.users")));
  CHECK(sample(text, "restsync_records_total{resource=\"labels\",outcome=\"inserted\"}") == 55);
  CHECK(sample(text, "restsync_runs_total{resource=\"labels\",result=\"succeeded\"}") == 1);
  CHECK(sample(text, "restsync_runs_total{resource=\"users\",result=\"failed\"}") == 0);
  // Two pages and at least one empty one past the end.
  CHECK(sample(text, "restsync_requests_total{resource=\"labels\"}") >= 3);
  // The emulator injects no faults here: every request was answered 200.
  CHECK(sample(text, "restsync_responses_total{resource=\"labels\",status=\"200\"}") ==
        sample(text, "restsync_requests_total{resource=\"labels\"}"));
  CHECK(sample(text, "restsync_transport_errors_total{resource=\"labels\"}") == 0);
  // labels ran once and is idle; users may be paging right now.
  CHECK(sample(text, "restsync_requests_in_flight{resource=\"labels\"}") == 0);
  CHECK(sample(text, "restsync_requests_in_flight{resource=\"users\"}") >= 0);
  CHECK(sample(text, "restsync_gate_wait_seconds_total{resource=\"users\"}") >= 0);
  CHECK(sample(text, "restsync_records_filtered_total{resource=\"users\"}") == 0);
  CHECK(sample(text, "restsync_rows_deleted_total{resource=\"users\"}") == 0);
  CHECK(sample(text, "restsync_rescans_total{resource=\"users\"}") == 0);
  CHECK(sample(text, "restsync_stale{resource=\"users\"}") == 0);
  // No limit of restsync's own in this configuration.
  CHECK(sample(text, "restsync_gate_configured_requests_per_second") == 0);
  auto last = sample(text, "restsync_last_success_timestamp_seconds{resource=\"labels\"}");
  REQUIRE(last);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(*last > now - 120);
  CHECK(*last <= now + 1);
  auto rss = sample(text, "process_resident_memory_bytes");
  REQUIRE(rss);
  CHECK(*rss > 1e6);
  CHECK(*rss < 1e9);
  REQUIRE(sample(text, "process_open_fds"));

  // Counters move with further runs.
  const double users_runs =
      *sample(text, "restsync_runs_total{resource=\"users\",result=\"succeeded\"}");
  REQUIRE(eventually(
      [&] {
        auto again = http_request(ep, "GET", "/metrics");
        auto v = sample(again.body, "restsync_runs_total{resource=\"users\",result=\"succeeded\"}");
        return v && *v >= users_runs + 2;
      },
      20s));

  CHECK(listening_sockets(daemon.pid()) == 1);
  CHECK(http_request(ep, "GET", "/").status == 404);
  CHECK(http_request(ep, "POST", "/metrics", {}, "x").status == 405);
  CHECK(daemon.stop(SIGTERM).first == 0);
}

TEST_CASE("requests by status and in flight, and the rate gate's wait, match the emulator") {
  // Slow answers keep requests in flight long enough to be scraped; a few of
  // the requests for the nine pages are answered 5xx and retried (the same
  // ones every time: the emulator's faults follow its seed).
  emulator emu({"--latency-ms", "400", "--faults", "5xx=0.3", "--records", "labels=450"});
  scratch_database db;
  config_options c;
  c.rate = 4;  // the gate holds back some of the pages requested at once
  daemon_options d;
  d.only = {"labels"};
  d.metrics_listen = "0";
  daemon_process daemon(daemon_yaml(c, d), emu, db);
  INFO(daemon.log());
  REQUIRE(daemon.wait_log("event=metrics_listening"));
  const endpoint ep = metrics_endpoint(daemon);
  const std::string in_flight = "restsync_requests_in_flight{resource=\"labels\"}";
  CHECK(eventually(
      [&] {
        auto v = sample(http_request(ep, "GET", "/metrics").body, in_flight);
        return v && *v >= 1;
      },
      30s, 20ms));
  REQUIRE(eventually([&] { return runs_of(db, "labels", "succeeded") == 1; }, 60s));

  // labels runs once an hour: nothing moves from here on.
  const std::string text = http_request(ep, "GET", "/metrics").body;
  INFO(text);
  const auto statuses = emulator_statuses(emu);
  INFO(emu.stats());
  REQUIRE(statuses.count("200"));
  CHECK(statuses.size() > 1);
  double answered = 0;
  for (const auto& [status, n] : statuses) {
    INFO("status ", status);
    CHECK(sample(text, "restsync_responses_total{resource=\"labels\",status=\"" + status + "\"}") ==
          n);
    answered += n;
  }
  CHECK(count_of(text, "restsync_responses_total{") == statuses.size());
  CHECK(sample(text, "restsync_transport_errors_total{resource=\"labels\"}") == 0);
  CHECK(sample(text, "restsync_requests_total{resource=\"labels\"}") == answered);
  CHECK(sample(text, in_flight) == 0);
  auto waited = sample(text, "restsync_gate_wait_seconds_total{resource=\"labels\"}");
  REQUIRE(waited);
  CHECK(*waited > 0.1);
  CHECK(*waited < 60);
  // The gate's configured rate, and what it allows now: no 429 came, so the
  // same.
  CHECK(sample(text, "restsync_gate_configured_requests_per_second") == 4);
  CHECK(sample(text, "restsync_gate_allowed_requests_per_second") == 4);
  CHECK(daemon.stop(SIGTERM).first == 0);
}

TEST_CASE("without metrics.listen nothing listens") {
  emulator emu;
  scratch_database db;
  daemon_options d;
  d.only = {"labels"};
  daemon_process daemon(daemon_yaml({}, d), emu, db);
  INFO(daemon.log());
  REQUIRE(daemon.wait_log("event=ready"));
  CHECK(daemon.log().find("metrics_listening") == std::string::npos);
  REQUIRE(eventually([&] { return runs_of(db, "labels", "succeeded") == 1; }, 30s));
  CHECK(listening_sockets(daemon.pid()) == 0);
  CHECK(daemon.stop(SIGTERM).first == 0);
}

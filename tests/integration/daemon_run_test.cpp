// restsyncd run: every resource on its own timer, mutations reaching the
// tables on the next tick, failures retried with a bounded backoff, no two
// runs of one resource at once, and a clean exit on SIGTERM and SIGINT.
#include "daemon_harness.hpp"

using namespace rs_test;

TEST_CASE("every resource syncs on its own interval; mutations reach the tables on the next tick") {
  emulator emu;
  scratch_database db;
  daemon_options d;
  d.interval = "1h";
  d.intervals = {{"users", "1s"}, {"labels", "2s"}};
  daemon_process daemon(daemon_yaml({}, d), emu, db);
  INFO(daemon.log());
  // The first run of everything starts at once.
  REQUIRE(daemon.wait_log("event=ready"));
  for (const auto& name : resource_names())
    REQUIRE(eventually([&] { return runs_of(db, name, "succeeded") >= 1; }, 60s));
  check_tables_equal_truth(emu, db);

  // users every second, labels every two, the others once in this hour.
  const int users0 = runs_of(db, "users"), labels0 = runs_of(db, "labels");
  std::this_thread::sleep_for(6s);
  const int users = runs_of(db, "users") - users0, labels = runs_of(db, "labels") - labels0;
  CAPTURE(users);
  CAPTURE(labels);
  CHECK(users >= 4);
  CHECK(users <= 8);
  CHECK(labels >= 2);
  CHECK(labels <= 4);
  for (const auto& name : resource_names())
    if (name != "users" && name != "labels") CHECK(runs_of(db, name) == 1);
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status NOT IN ('succeeded', "
                  "'running')") == "0");

  auto m = emu.mutate(R"({"ops":[
      {"op":"add","resource":"users","count":7,"position":"back"},
      {"op":"change","resource":"users","count":3},
      {"op":"add","resource":"labels","count":4,"position":"front"}]})");
  REQUIRE(m.status == 200);
  const int after_users = runs_of(db, "users"), after_labels = runs_of(db, "labels");
  REQUIRE(eventually(
      [&] {
        return runs_of(db, "users", "succeeded") >= after_users + 2 &&
               runs_of(db, "labels", "succeeded") >= after_labels + 2;
      },
      30s));
  check_tables_equal_truth(emu, db, {"users", "labels"});
  CHECK(db.scalar("SELECT sum(inserted) FROM analytics._rs_runs WHERE resource = 'users'") ==
        std::to_string(75 + 7));

  auto [code, took] = daemon.stop(SIGTERM);
  CHECK(code == 0);
  CHECK(took < 5s);
  CHECK(daemon.wait_log("event=stopped"));
}

TEST_CASE("a failing resource is retried with a doubling backoff and does not hold up the others") {
  emulator emu;
  scratch_database db;
  daemon_options d;
  d.interval = "1h";
  d.failure_backoff = "1s";
  // A path the emulator does not serve: 404, which no retry fixes.
  std::string yaml = daemon_yaml({}, d);
  const std::string path = "path: /v1/accounts/current/labels\n";
  yaml.replace(yaml.find(path), path.size(), "path: /v1/accounts/current/nolabels\n");
  daemon_process daemon(yaml, emu, db);
  INFO(daemon.log());
  REQUIRE(daemon.wait_log("event=ready"));
  // Failures at about 0 s, 1 s, 3 s and 7 s: waits of 1, 2 and 4 seconds.
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] { return runs_of(db, "labels", "failed") >= 4; }, 30s));
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took > 6s);
  CHECK(took < 12s);
  // The gaps between the starts of the failed runs double.
  auto gaps = db.query(
      "SELECT extract(epoch FROM started_at - lag(started_at) OVER (ORDER BY id)) "
      "FROM analytics._rs_runs WHERE resource = 'labels' ORDER BY id OFFSET 1 LIMIT 3");
  REQUIRE(gaps.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(std::stod(gaps[i][0]) > (1 << i) - 0.3);
    CHECK(std::stod(gaps[i][0]) < (1 << i) + 0.6);
  }
  const std::string log = daemon.log();
  CHECK(log.find("consecutive_failures=1 backoff=1s") != std::string::npos);
  CHECK(log.find("consecutive_failures=2 backoff=2s") != std::string::npos);
  CHECK(log.find("consecutive_failures=3 backoff=4s") != std::string::npos);
  CHECK(log.find("404") != std::string::npos);
  // The others ran once, successfully, and are not touched by the failures.
  for (const auto& name : resource_names()) {
    if (name == "labels") continue;
    CHECK(runs_of(db, name, "succeeded") == 1);
  }
  check_tables_equal_truth(emu, db, {"users", "campaigns", "accounts"});
  CHECK(daemon.running());
  CHECK(daemon.stop(SIGINT).first == 0);
}

TEST_CASE("two runs of one resource never overlap, even when a run outlasts its interval") {
  // About 3 s per users run (7 pages, one request at a time, 400 ms each)
  // against a 1 s interval.
  emulator emu({"--latency-ms", "400", "--records", "users=300"});
  scratch_database db;
  config_options c;
  c.max_in_flight = 1;
  daemon_options d;
  d.only = {"users", "labels"};
  d.interval = "1s";
  daemon_process daemon(daemon_yaml(c, d), emu, db);
  INFO(daemon.log());
  REQUIRE(eventually([&] { return runs_of(db, "users", "succeeded") >= 3; }, 60s));
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs a JOIN analytics._rs_runs b ON "
                  "a.resource = b.resource AND a.id < b.id AND b.started_at < a.finished_at") ==
        "0");
  // Each next run starts at once after a run that took longer than 1 s.
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs a JOIN analytics._rs_runs b ON "
                  "b.id = (SELECT min(id) FROM analytics._rs_runs c WHERE c.resource = a.resource "
                  "AND c.id > a.id) WHERE a.resource = 'users' AND a.status = 'succeeded' AND "
                  "b.started_at - a.finished_at > interval '900 ms'") == "0");
  CHECK(daemon.stop(SIGTERM).first == 0);
}

TEST_CASE("a bad configuration is refused before anything runs, with exit status 78") {
  emulator emu;
  scratch_database db;
  std::string yaml = daemon_yaml({}, {}) + "metrics: {listen: nowhere}\n";
  daemon_process daemon(yaml, emu, db);
  auto code = daemon.proc().wait(30s);
  REQUIRE(code);
  CHECK(*code == 78);
  CHECK(daemon.log().find("metrics.listen: `nowhere` is not a listen address") !=
        std::string::npos);
  CHECK(emu.stats().find("\"requests_total\":0") != std::string::npos);
}

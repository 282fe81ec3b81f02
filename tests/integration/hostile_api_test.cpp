// APIs that do not page as the configuration says: each run fails with an
// error that says so, instead of paging forever; the other resources sync.
#include "sync_harness.hpp"

using namespace rs_test;

namespace {

// users and labels, users with the paginator given.
std::string two_resources(const std::string& users_paginator = {}) {
  std::string y = analytics_yaml({});
  std::string out = y.substr(0, y.find("resources:\n"));
  out +=
      "resources:\n"
      "  - name: users\n"
      "    endpoint:\n"
      "      path: /v1/accounts/current/users\n";
  if (!users_paginator.empty()) out += "      paginator: " + users_paginator + "\n";
  out +=
      "  - name: labels\n"
      "    endpoint:\n"
      "      path: /v1/accounts/current/labels\n";
  return out;
}

}  // namespace

TEST_CASE("an endpoint that ignores the offset fails its run instead of paging forever") {
  emulator emu({"--quirks", "singletons,feed_order,ignore_offset"});
  scratch_database db;
  auto r = run_sync(two_resources(), emu, db);
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(r.log.find("the API seems to ignore the paging parameter `offset`") != std::string::npos);
  // A handful of requests, not an endless scan.
  CHECK(json_int(emu.stats(), "/v1/accounts/current/users") <= 10);
  CHECK(db.scalar("SELECT status FROM analytics._rs_runs WHERE resource = 'users'") == "failed");
  CHECK(db.scalar("SELECT count(*) FROM analytics.users WHERE _rs_deleted_at IS NOT NULL") == "0");
}

TEST_CASE("a page number the server does not honour fails the run; other resources sync") {
  emulator emu;  // it knows no `page` parameter: every page is the first
  scratch_database db;
  auto r = run_sync(two_resources("{type: page_number, page_param: page, base_page: 1}"), emu, db);
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(r.log.find("users: the API seems to ignore the paging parameter `page`: page 3 of the "
                   "scan holds the same records as page 1") != std::string::npos);
  CHECK(json_int(emu.stats(), "/v1/accounts/current/users") == 3);
  CHECK(db.scalar("SELECT status FROM analytics._rs_runs WHERE resource = 'labels'") ==
        "succeeded");
  check_tables_equal_truth(emu, db, {"labels"});
}

TEST_CASE("a sequential paginator's messages name the page, not an offset") {
  emulator emu;
  scratch_database db;
  std::string y = two_resources("{type: page_number, page_param: page, base_page: 1}");
  const std::string paginator_line = "      paginator: {type: page_number";
  y.insert(y.find("\n", y.find(paginator_line)) + 1,
           "      incremental: {cursor_path: no_such_field, on_cursor_value_missing: raise}\n");
  auto r = run_sync(y, emu, db, {"--resource", "users"});
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(r.log.find("users: record 0 of page 1 of the scan (key ") != std::string::npos);
  CHECK(r.log.find("has no cursor value at no_such_field") != std::string::npos);
  CHECK(r.log.find("at offset") == std::string::npos);
}

TEST_CASE("oversized pages wait for room in the memory budget instead of piling up") {
  // Six pages of about 20 MB: each is charged four times its body, 80 MB,
  // so a 100 MiB budget holds one at a time.
  emulator emu({"--records", "users=300", "--records", "labels=3", "--pad-bytes", "400000"});
  scratch_database db;
  config_options c;
  c.max_in_flight = 4;
  c.extra_client = "  max_body_bytes: 64MiB\n  memory_budget: 100MiB\n";
  std::string yaml = two_resources();
  yaml.replace(yaml.find("client:\n"), 8, "client:\n" + c.extra_client);
  auto r = run_sync(yaml, emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  // (The padding is not part of /__truth: count the rows.)
  CHECK(db.scalar("SELECT count(*) FROM analytics.users") == "300");
  CHECK(db.scalar("SELECT count(*) FROM analytics.labels") == "3");
  CHECK(db.scalar("SELECT min(length(pad)) FROM analytics.users") == "400000");
  // One body at a time: requests waited before they were sent, so no second
  // connection was ever needed (with the window of 4 it took 4 or more).
  CHECK(json_int(emu.stats(), "connections_peak") <= 2);
}

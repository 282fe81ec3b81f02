// APIs that do not page as the configuration says: each run fails with an
// error that says so, instead of paging forever; the other resources sync.
#include "sync_harness.hpp"

using namespace rs_test;

namespace {

// users and labels, users with the paginator given.
std::string two_resources(const std::string& users_paginator = {}) {
  std::string y = analytics_yaml({});
  std::string out = y.substr(0, y.find("resources:\n"));
  out += "resources:\n"
         "  - name: users\n"
         "    endpoint:\n"
         "      path: /v1/accounts/current/users\n";
  if (!users_paginator.empty()) out += "      paginator: " + users_paginator + "\n";
  out += "  - name: labels\n"
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

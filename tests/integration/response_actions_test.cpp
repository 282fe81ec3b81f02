// endpoint.response_actions against the emulator (issue 13, item 3): a
// response that matches ends the scan as "no records here", the run
// succeeds, and since nothing past it was seen, no row is marked deleted.
#include "sync_harness.hpp"

using namespace rs_test;

namespace {

const std::string offset_paging = "{type: offset, limit: 50, offset_param: offset}";

// users, at the path given, with the endpoint lines given (indented by 6).
std::string users_at(const std::string& path, const std::string& endpoint_lines = {},
                     const std::string& paginator = offset_paging) {
  return emulator_client_yaml() +
         "resources:\n"
         "  - name: users\n"
         "    primary_key: id\n"
         "    endpoint:\n"
         "      path: " +
         path +
         "\n"
         "      data_selector: _data\n"
         "      paginator: " +
         paginator +
         "\n"
         "      error_handler: {backoff_factor: 0.05}\n" +
         endpoint_lines;
}

// A path the emulator answers 404: an account it does not have.
const std::string gone = "/v1/accounts/999999/users";

bool has(const std::string& log, const std::string& text) {
  return log.find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("a 404 listed in response_actions is no records, not a failure") {
  emulator emu;
  scratch_database db;

  auto failed = run_sync(users_at(gone), emu, db);
  INFO(failed.log);
  CHECK(failed.status == 1);
  CHECK(has(failed.log, "users: GET /v1/accounts/999999/users?limit=50&offset=0 failed"));
  CHECK(has(failed.log, "404"));

  auto r = run_sync(
      users_at(gone, "      response_actions: [{status_code: 404, action: ignore}]\n"), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  CHECK(has(r.log, "event=response_ignored resource=users"));
  CHECK(has(r.log, "status=404"));
  CHECK(has(r.log, "ignored=1"));
  // Not retried: one request for the one page.
  CHECK(db.scalar("SELECT requests || '/' || retries || '/' || complete_scan || '/' || ignored "
                  "FROM analytics._rs_runs WHERE status = 'succeeded'") == "1/0/false/1");
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status = 'failed'") == "1");
}

TEST_CASE("a body content match is ignored, whatever the status") {
  emulator emu;
  scratch_database db;
  // The emulator's 404 for an account it does not have says "No such account: …".
  auto r = run_sync(
      users_at(gone, "      response_actions: [{content: \"No such account\", action: ignore}]\n"),
      emu, db);
  INFO(r.log);
  CHECK(r.status == 0);
  CHECK(has(r.log, "event=response_ignored resource=users"));

  // A 200 page whose body matches is ignored too: nothing of it is stored.
  r = run_sync(users_at("/v1/accounts/current/users",
                        "      response_actions: [{status_code: 200, content: \"\\\"id\\\":\", "
                        "action: ignore}]\n"),
               emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  CHECK(has(r.log, "status=200"));
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status = 'succeeded' AND "
                  "records = 0 AND NOT complete_scan") == "2");
  if (db.scalar("SELECT to_regclass('analytics.users') IS NOT NULL") == "t")
    CHECK(db.scalar("SELECT count(*) FROM analytics.users") == "0");
}

TEST_CASE("an ignored response does not mark existing rows deleted") {
  emulator emu;
  scratch_database db;
  auto first = run_sync(users_at("/v1/accounts/current/users"), emu, db);
  INFO(first.log);
  REQUIRE(first.status == 0);
  check_tables_equal_truth(emu, db, {"users"});
  const auto rows = db.scalar("SELECT count(*) FROM analytics.users");
  CHECK(rows == "75");

  // The same table, now answered 404 and ignored: it looks like an empty
  // collection, but it proves nothing about the rows.
  auto r = run_sync(
      users_at(gone, "      response_actions: [{status_code: 404, action: ignore}]\n"), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  CHECK(has(r.log, "event=deletions_skipped resource=users"));
  CHECK(db.scalar("SELECT count(*) FROM analytics.users WHERE _rs_deleted_at IS NULL") == rows);
  CHECK(db.scalar("SELECT deleted FROM analytics._rs_runs ORDER BY id DESC LIMIT 1") == "0");

  // The control: a sound complete scan of the real path that misses records
  // marks them.
  REQUIRE(
      emu.mutate(R"({"ops":[{"op":"remove","resource":"users","count":5,"position":"spread"}]})")
          .status == 200);
  r = run_sync(users_at("/v1/accounts/current/users"), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  CHECK(db.scalar("SELECT count(*) FROM analytics.users WHERE _rs_deleted_at IS NOT NULL") == "5");
}

TEST_CASE("the paginators that read one page after another end on an ignored response too") {
  emulator emu;
  scratch_database db;
  for (const std::string paginator :
       {"{type: page_number, base_page: 1}", "{type: cursor, cursor_path: next}"}) {
    CAPTURE(paginator);
    auto r = run_sync(
        users_at(gone, "      response_actions: [{status_code: 404, action: ignore}]\n", paginator),
        emu, db);
    INFO(r.log);
    REQUIRE(r.status == 0);
    CHECK(has(r.log, "event=response_ignored resource=users"));
    CHECK(db.scalar("SELECT requests || '/' || complete_scan || '/' || ignored FROM "
                    "analytics._rs_runs ORDER BY id DESC LIMIT 1") == "1/false/1");
  }
}

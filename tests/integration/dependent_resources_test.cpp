// Dependent resources (issue 13, item 1): config/analytics-accounts.yaml reads
// every account the key sees and, per account, its campaigns, users and
// feeds, against the emulator's per-account paths, into a real PostgreSQL.
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <csignal>
#include <thread>

#include "sync_harness.hpp"

using namespace rs_test;

namespace {

const std::vector<std::pair<std::string, std::string>> children = {
    {"account_campaigns", "campaigns"},
    {"account_users", "users"},
    {"account_feeds", "accounts_feeds"}};

std::filesystem::path accounts_config_path() {
  return source_dir() / "config" / "analytics-accounts.yaml";
}

// The shipped accounts configuration, with edits (find → replace).
std::string accounts_config(const std::vector<std::pair<std::string, std::string>>& edits = {}) {
  std::ifstream in(accounts_config_path());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto replace = [&](const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
  };
  // No client-side limit: the tests' emulator has none either.
  replace("requests_per_second: 1\n    burst: 1", "requests_per_second: 0");
  for (const auto& [from, to] : edits) replace(from, to);
  return text;
}

struct account {
  long long id;
  std::string name;
};

std::vector<account> accounts_of(const emulator& emu) {
  rapidjson::Document d;
  d.Parse(emu.truth("accounts").c_str());
  std::vector<account> out;
  for (const auto& r : d.GetArray()) out.push_back({r["id"].GetInt64(), r["name"].GetString()});
  return out;
}

// The records of a JSON array's text, each as written: the truth's numbers
// stay digit for digit (a parse and write would round some of them).
std::vector<std::string> record_texts(const std::string& array) {
  std::vector<std::string> out;
  int depth = 0;
  bool in_string = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const char c = array[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' && depth++ == 1)
      start = i;
    else if (c == '[')
      ++depth;
    else if ((c == '}' || c == ']') && --depth == 1 && c == '}')
      out.push_back(array.substr(start, i + 1 - start));
  }
  return out;
}

std::string json_string(const std::string& s) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  return b.GetString();
}

// Every account's records of an emulator resource, as the child table should
// hold them: each with `_accounts_id` (and `_accounts_name` when included).
std::string child_truth(const emulator& emu, const std::string& resource,
                        const std::vector<account>& accounts, bool with_name) {
  std::string all = "[";
  for (const auto& a : accounts) {
    auto res = emu.get("/__truth/" + resource + "?account=" + std::to_string(a.id), false);
    REQUIRE(res.status == 200);
    for (auto r : record_texts(res.body)) {
      r.pop_back();
      r += fmt::format(",\"_accounts_id\":{}", a.id);
      if (with_name) r += ",\"_accounts_name\":" + json_string(a.name);
      all += (all.size() > 1 ? "," : "") + r + "}";
    }
  }
  return all + "]";
}

// The child table holds the accounts' records of the emulator resource,
// each with its `_accounts_id` (and `_accounts_name` with with_name);
// reports each difference.
void check_child_table(const emulator& emu, const scratch_database& db, const std::string& table,
                       const std::string& resource, const std::vector<account>& accounts,
                       bool with_name,
                       const std::vector<std::string>& key = {"id", "_accounts_id"}) {
  INFO("table ", table);
  auto diffs =
      db.diff_with_truth("analytics", table, child_truth(emu, resource, accounts, with_name), key);
  for (const auto& d : diffs) MESSAGE(d);
  CHECK(diffs.empty());
}

void check_children_equal_truth(const emulator& emu, const scratch_database& db,
                                const std::vector<account>& accounts) {
  for (const auto& [table, resource] : children)
    check_child_table(emu, db, table, resource, accounts, table == "account_campaigns");
}

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("the shipped accounts configuration: every account's campaigns, users and feeds") {
  emulator emu;
  scratch_database db;
  const auto accounts = accounts_of(emu);
  REQUIRE(accounts.size() == 3);
  auto r = run_sync(accounts_config(), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_children_equal_truth(emu, db, accounts);
  // Accounts differ: the same campaign id under two accounts is two rows.
  CHECK(db.scalar("SELECT count(DISTINCT _accounts_id) FROM analytics.account_campaigns") == "3");
  // A child run costs no request of its parent's: accounts 2 (a short first
  // page confirmed), then per account 2 + 2 + 3 pages.
  CHECK(json_int(emu.stats(), "requests_total") == 2 + 3 * (2 + 2 + 3));
  // One state row and one run per parent, and the resource's own.
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_state WHERE resource = 'account_users' "
                  "AND parent_value <> ''") == "3");
  CHECK(db.scalar("SELECT string_agg(parent_value, ',' ORDER BY parent_value) FROM "
                  "analytics._rs_runs WHERE resource = 'account_users' AND parent_value IS NOT "
                  "NULL") ==
        fmt::format("{},{},{}", accounts[0].id, accounts[1].id, accounts[2].id));
  CHECK(db.scalar("SELECT records || '/' || requests || '/' || complete_scan FROM "
                  "analytics._rs_runs WHERE resource = 'account_users' AND parent_value IS NULL") ==
        "225/6/true");
  // Each child's summary names its parent.
  CHECK(has(r.log, fmt::format("event=summary resource=account_campaigns parent=\"accounts.id={}\"",
                               accounts[1].id)));

  // A second sync: the parent's new records only; the children per account.
  auto m = emu.mutate(R"({"ops":[{"op":"add","resource":"campaigns","count":3,"position":"front"},
      {"op":"add","resource":"accounts_feeds","count":4}]})");
  REQUIRE(m.status == 200);
  r = run_sync(accounts_config(), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_children_equal_truth(emu, db, accounts);
}

TEST_CASE("a parent gains and loses records: new ones read, vanished ones' rows marked deleted") {
  emulator emu;
  scratch_database db;
  // campaigns keep a vanished account's rows (keep), users drop them (delete).
  const auto config = accounts_config(
      {{"    include_from_parent: [name]\n    # An account that is gone takes its campaigns with "
        "it (marked deleted).\n    on_parent_deleted: delete",
        "    include_from_parent: [name]\n    on_parent_deleted: keep"}});
  auto r = run_sync(config, emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  const auto before = accounts_of(emu);
  auto m = emu.mutate(fmt::format(R"({{"ops":[{{"op":"remove","resource":"accounts","id":{}}},
      {{"op":"add","resource":"accounts","count":1}}]}})",
                                  before[2].id));
  REQUIRE(m.status == 200);
  const auto after = accounts_of(emu);
  REQUIRE(after.size() == 3);
  const auto added = after[2].id;
  // The accounts' removal shows in a full scan (full_scan_every), which
  // --full-refresh asks for now.
  r = run_sync(config, emu, db, {"--full-refresh"});
  INFO(r.log);
  REQUIRE(r.status == 0);
  const auto gone = std::to_string(before[2].id);
  CHECK(db.scalar("SELECT count(*) FROM analytics.accounts WHERE _rs_deleted_at IS NOT NULL") ==
        "1");
  // The new account's children are read.
  CHECK(db.scalar(fmt::format("SELECT count(*) FROM analytics.account_users WHERE _accounts_id = "
                              "{} AND _rs_deleted_at IS NULL",
                              added)) == "75");
  // on_parent_deleted: delete marks the vanished account's users; keep
  // leaves its campaigns live.
  CHECK(db.scalar("SELECT count(*) FROM analytics.account_users WHERE _accounts_id = " + gone +
                  " AND _rs_deleted_at IS NOT NULL") == "75");
  CHECK(db.scalar("SELECT count(*) FROM analytics.account_users WHERE _rs_deleted_at IS NOT "
                  "NULL") == "75");
  CHECK(db.scalar("SELECT count(*) FROM analytics.account_campaigns WHERE _accounts_id = " + gone +
                  " AND _rs_deleted_at IS NULL") == "80");
  CHECK(has(r.log, "event=orphans_deleted resource=account_users parent=accounts rows=75"));
  // The vanished parent's state is dropped; the others' stay.
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_state WHERE resource = 'account_users' "
                  "AND parent_value = '" +
                  gone + "'") == "0");
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_state WHERE resource = 'account_users' "
                  "AND parent_value <> ''") == "3");
  // Every live account's children equal its records.
  std::vector<account> live = {after[0], after[1], after[2]};
  check_child_table(emu, db, "account_users", "users", live, false);
  check_child_table(emu, db, "account_feeds", "accounts_feeds", live, false);
}

TEST_CASE("a child that 404s for one parent fails that parent only, named by its value") {
  emulator emu;
  scratch_database db;
  const auto accounts = accounts_of(emu);
  // The parent is read, then an account goes before its children are.
  auto r = run_sync(accounts_config(), emu, db, {"--resource", "accounts"});
  REQUIRE(r.status == 0);
  auto m = emu.mutate(fmt::format(R"({{"ops":[{{"op":"remove","resource":"accounts","id":{}}}]}})",
                                  accounts[1].id));
  REQUIRE(m.status == 200);

  // Without response_actions: the one parent fails, the others load.
  const std::string ignore_404 =
      "      response_actions:\n        - {status_code: 404, action: ignore}\n      "
      "incremental: {cursor_path: createdOn, on_cursor_value_missing: include}\n\n  - name: "
      "account_users";
  const auto strict =
      accounts_config({{ignore_404,
                        "      incremental: {cursor_path: createdOn, on_cursor_value_missing: "
                        "include}\n\n  - name: account_users"}});
  r = run_sync(strict, emu, db, {"--resource", "account_campaigns"});
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(has(r.log, fmt::format("account_campaigns: 1 of 3 parents failed: accounts.id={0}: "
                               "account_campaigns: GET /v1/accounts/{0}/campaigns?limit=50&"
                               "offset=0 failed: HTTP 404",
                               accounts[1].id)));
  CHECK(db.scalar("SELECT count(*) FROM analytics.account_campaigns") == "160");
  CHECK(db.scalar("SELECT status FROM analytics._rs_runs WHERE resource = 'account_campaigns' "
                  "AND parent_value IS NULL") == "failed");
  CHECK(db.scalar("SELECT string_agg(status, ',' ORDER BY parent_value) FROM analytics._rs_runs "
                  "WHERE resource = 'account_campaigns' AND parent_value IS NOT NULL") ==
        "succeeded,failed,succeeded");

  // With the shipped response_actions the 404 means "nothing here".
  r = run_sync(accounts_config(), emu, db, {"--resource", "account_campaigns"});
  INFO(r.log);
  CHECK(r.status == 0);
  CHECK(has(r.log, "event=response_ignored resource=account_campaigns"));
}

TEST_CASE("a child whose parent never synced fails with what to do") {
  emulator emu;
  scratch_database db;
  auto r = run_sync(accounts_config(), emu, db, {"--resource", "account_users"});
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(has(r.log,
            "account_users: its parent `accounts` has no successful run in this database "
            "yet"));
  CHECK(json_int(emu.stats(), "requests_total") == 0);
}

TEST_CASE("SIGKILL during child runs: per parent, nothing lost and no cursor ahead of its rows") {
  emulator emu({"--latency-ms", "150"});
  scratch_database db;
  temp_dir dir;
  auto file = dir.path() / "restsync.yaml";
  std::ofstream(file) << accounts_config();
  const auto accounts = accounts_of(emu);
  int killed_mid_run = 0;
  for (int round = 0; round < 6; ++round) {
    CAPTURE(round);
    process p({(bin_dir() / "restsyncd").string(), "sync", "--config", file.string()},
              {{"ANALYTICS_BASE_URL", emu.base_url()},
               {"ANALYTICS_API_KEY", emu.api_key()},
               {"PGDATABASE", db.name()}});
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + 200 * round));
    if (p.running()) ++killed_mid_run;
    p.stop(SIGKILL);
    // A parent's cursor is stored only with all of its records before it:
    // for every (child, parent) with a cursor, every record of that account
    // up to the cursor is in the table.
    for (const auto& [table, resource] : children) {
      if (db.scalar("SELECT to_regclass('analytics." + table + "') IS NOT NULL") != "t") continue;
      for (const auto& a : accounts) {
        auto cursor = db.scalar(fmt::format(
            "SELECT coalesce(cursor_value, '') FROM analytics._rs_state WHERE resource = '{}' "
            "AND parent_value = '{}'",
            table, a.id));
        if (cursor.empty()) continue;
        const std::string field = resource == "accounts_feeds" ? "when" : "createdOn";
        rapidjson::Document d;
        auto res = emu.get("/__truth/" + resource + "?account=" + std::to_string(a.id), false);
        d.Parse(res.body.c_str());
        long long expected = 0;
        for (const auto& rec : d.GetArray())
          if (rec.HasMember(field.c_str()) && rec[field.c_str()].IsInt64() &&
              rec[field.c_str()].GetInt64() <= std::stoll(cursor))
            ++expected;
        CAPTURE(table);
        CAPTURE(a.id);
        CHECK(
            std::stoll(db.scalar(fmt::format(
                "SELECT count(*) FROM analytics.{} WHERE _accounts_id = {} AND {} <= {}", table,
                a.id,
                field == "when" ? "extract(epoch FROM \"when\")" : "extract(epoch FROM created_on)",
                cursor))) >= expected);
      }
    }
  }
  CHECK(killed_mid_run >= 3);
  auto r = run_sync(accounts_config(), emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_children_equal_truth(emu, db, accounts);
}

TEST_CASE("a dependent resource's POST body names its parent's field, as dlt's json does") {
  emulator emu;
  scratch_database db;
  const auto accounts = accounts_of(emu);
  // Per account, a search whose body carries the account (a number, as the
  // parent's id is) and the page position.
  const auto config = accounts_config() + R"(
  - name: campaign_search
    primary_key: [id, _accounts_id]
    endpoint:
      path: /v1/accounts/current/search/campaigns
      method: POST
      json: {query: "*", account: "{resources.accounts.id}", page: {}}
      paginator: {type: offset, limit: 50, offset_param: ~, offset_body_path: page.offset,
                  limit_param: ~, limit_body_path: page.limit, total_path: ~}
)";
  auto r = run_sync(config, emu, db, {"--resource", "accounts", "--resource", "campaign_search"});
  INFO(r.log);
  REQUIRE(r.status == 0);
  check_child_table(emu, db, "campaign_search", "campaigns", accounts, false);
}

TEST_CASE("a key without the parent's column: a key from two parents fails, nothing merged") {
  emulator emu;
  scratch_database db;
  const auto accounts = accounts_of(emu);
  // The emulator's accounts share campaign ids (each account's ids count
  // from the same start), so `primary_key: id` cannot hold them apart.
  const auto config =
      accounts_config({{"  - name: account_campaigns\n    primary_key: [id, _accounts_id]",
                        "  - name: account_campaigns\n    primary_key: id"}});
  auto r = run_sync(config, emu, db, {"--resource", "accounts", "--resource", "account_campaigns"});
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(has(r.log, "came from accounts.id="));
  CHECK(has(r.log, "would merge them onto one row"));
  CHECK(has(r.log, "Add the parent's column: `primary_key: [id, _accounts_id]`"));
  // Every row stored is its own account's record: none was moved to another.
  CHECK(db.scalar("SELECT count(DISTINCT _accounts_id) FROM analytics.account_campaigns") == "1");
  const auto kept =
      std::stoll(db.scalar("SELECT min(_accounts_id) FROM analytics.account_campaigns"));
  std::vector<account> owner;
  for (const auto& a : accounts)
    if (a.id == kept) owner.push_back(a);
  REQUIRE(owner.size() == 1);
  check_child_table(emu, db, "account_campaigns", "campaigns", owner, true, {"id"});
}

// Column hints (`columns:`) end to end: restsyncd against the emulator and a
// real PostgreSQL. Hinted columns get their types, values that do not fit go
// to variant columns, and hints added to tables that already have rows
// convert them in place or are refused, losing nothing.
#include "sync_harness.hpp"

using namespace rs_test;

namespace {

std::string column_type(const scratch_database& db, const std::string& table,
                        const std::string& column) {
  return db.scalar(
      "SELECT data_type FROM information_schema.columns WHERE table_schema = 'analytics' AND "
      "table_name = '" +
      table + "' AND column_name = '" + column + "'");
}

std::string hinted(const std::string& columns) { return "    columns:\n" + columns; }

// A configuration of the nine resources with these YAML lines (indented by 6)
// as the `columns` of the named resources.
std::string yaml_with_columns(const std::map<std::string, std::string>& columns) {
  config_options o;
  for (const auto& [resource, lines] : columns) o.extra_resource[resource] = hinted(lines);
  return analytics_yaml(o);
}

int count_lines(const std::string& log, const std::string& needle) {
  int n = 0;
  for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
  return n;
}

std::string user_id(const emulator& emu, int index) {
  // The truth lists users in paging order; take the index-th id.
  const auto truth = emu.truth("users");
  auto at = std::string::npos;
  size_t from = 0;
  for (int i = 0; i <= index; ++i) {
    at = truth.find("{\"id\":", from);
    REQUIRE(at != std::string::npos);
    from = at + 1;
  }
  const auto start = at + 6;
  return truth.substr(start, truth.find_first_of(",}", start) - start);
}

const char* users_only[] = {"--resource", "users"};

std::vector<std::string> only_users() { return {std::begin(users_only), std::end(users_only)}; }

}  // namespace

TEST_CASE(
    "the shipped config stores the API's timestamps as timestamptz; cursors and deletions "
    "keep working") {
  emulator emu;
  scratch_database db;
  auto r = run_shipped_sync(emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  for (const auto& [table, column] :
       std::vector<std::pair<std::string, std::string>>{{"accounts", "created_on"},
                                                        {"accounts_feeds", "when"},
                                                        {"users", "created_on"},
                                                        {"users", "last_login"},
                                                        {"campaigns", "created_on"},
                                                        {"custom_widgets", "created_at"},
                                                        {"custom_widgets", "updated_at"}}) {
    INFO(table, ".", column);
    CHECK(column_type(db, table, column) == "timestamp with time zone");
  }
  // Every value equals the API's epoch seconds (the comparison reads
  // timestamptz columns as extract(epoch …)).
  check_tables_equal_truth(emu, db);
  // The cursor is the record's own value, not the column's.
  CHECK(db.scalar("SELECT cursor_value FROM analytics._rs_state WHERE resource = "
                  "'accounts_feeds'") ==
        db.scalar("SELECT extract(epoch from max(\"when\"))::bigint::text FROM "
                  "analytics.accounts_feeds"));

  auto m = emu.mutate(R"({"ops":[
      {"op":"add","resource":"users","count":3},
      {"op":"remove","resource":"users","count":2,"position":"spread"},
      {"op":"change","resource":"custom_widgets","count":5},
      {"op":"add","resource":"accounts_feeds","count":4}]})");
  REQUIRE(m.status == 200);
  auto again = run_restsyncd({"sync", "--full-refresh", "--config", shipped_config_path().string()},
                             emu, db);
  INFO(again.log);
  REQUIRE(again.status == 0);
  check_tables_equal_truth(emu, db);
  CHECK(db.scalar("SELECT count(*) FROM analytics.users WHERE _rs_deleted_at IS NOT NULL") == "2");
}

TEST_CASE("hints on a new table: each data_type's PostgreSQL type") {
  emulator emu;
  scratch_database db;
  const auto yaml = yaml_with_columns(
      {{"campaigns",
        "      created_on: {data_type: timestamp}\n"
        "      primary_goal: {data_type: decimal, precision: 18, scale: 2}\n"
        "      is_bayesian: {data_type: bool}\n"
        "      stats: {data_type: json}\n"
        "      name: {data_type: text}\n"},
       {"users", "      account: {data_type: double}\n      country: {data_type: text}\n"},
       {"labels", "      id: {data_type: bigint, primary_key: true}\n"}});
  auto r = run_sync(yaml, emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  CHECK(column_type(db, "campaigns", "created_on") == "timestamp with time zone");
  CHECK(column_type(db, "campaigns", "primary_goal") == "numeric");
  CHECK(db.scalar("SELECT numeric_precision || ',' || numeric_scale FROM "
                  "information_schema.columns WHERE table_name = 'campaigns' AND column_name = "
                  "'primary_goal'") == "18,2");
  CHECK(column_type(db, "campaigns", "is_bayesian") == "boolean");
  CHECK(column_type(db, "campaigns", "stats") == "jsonb");
  CHECK(column_type(db, "users", "account") == "double precision");
  CHECK(db.scalar("SELECT type FROM analytics._rs_columns WHERE resource = 'campaigns' AND "
                  "column_name = 'primary_goal'") == "numeric(18,2)");
  check_tables_equal_truth(emu, db);
}

TEST_CASE("a value that does not fit its hint goes to the variant column, with one warning") {
  emulator emu;
  scratch_database db;
  const auto yaml = yaml_with_columns({{"users", "      created_on: {data_type: timestamp}\n"}});
  auto first = run_sync(yaml, emu, db, only_users());
  INFO(first.log);
  REQUIRE(first.status == 0);
  CHECK(first.log.find("event=hint_misfit") == std::string::npos);

  const auto a = user_id(emu, 1), b = user_id(emu, 2), c = user_id(emu, 3), d = user_id(emu, 4);
  auto m = emu.mutate(R"({"ops":[
      {"op":"change","resource":"users","id":)" +
                      a +
                      R"(,"fields":{"createdOn":"not a time"}},
      {"op":"change","resource":"users","id":)" +
                      b +
                      R"(,"fields":{"createdOn":"2024-02-29T12:00:00+01:00"}},
      {"op":"change","resource":"users","id":)" +
                      c +
                      R"(,"fields":{"createdOn":1700000000123}},
      {"op":"change","resource":"users","id":)" +
                      d + R"(,"fields":{"createdOn":true}}]})");
  REQUIRE(m.status == 200);
  auto second = run_sync(yaml, emu, db, only_users());
  INFO(second.log);
  REQUIRE(second.status == 0);
  auto row = [&](const std::string& id, const std::string& expr) {
    return db.scalar("SELECT " + expr + " FROM analytics.users WHERE id = " + id);
  };
  CHECK(row(a, "created_on IS NULL") == "t");
  CHECK(row(a, "created_on__v_text") == "not a time");
  CHECK(row(d, "created_on__v_boolean") == "t");
  CHECK(row(b, "extract(epoch from created_on)::text") ==
        db.scalar("SELECT extract(epoch from timestamptz '2024-02-29 11:00:00+00')::text"));
  CHECK(row(c, "extract(epoch from created_on)::text") == "1700000000.123000");
  // One warning per column and run, whatever the count.
  CHECK(count_lines(second.log, "event=hint_misfit") == 1);
  CHECK(second.log.find("column=created_on variant=created_on__v_text") != std::string::npos);
  // Only those two are not times.
  CHECK(db.scalar("SELECT count(created_on__v_text) || ' ' || count(created_on__v_boolean) FROM "
                  "analytics.users") == "1 1");
}

TEST_CASE("a hint added to a table that has rows converts its column in place") {
  emulator emu;
  scratch_database db;
  auto first = run_sync(analytics_yaml({}), emu, db, only_users());
  INFO(first.log);
  REQUIRE(first.status == 0);
  REQUIRE(column_type(db, "users", "created_on") == "bigint");
  const auto rows = db.scalar("SELECT count(*) FROM analytics.users");

  const auto yaml = yaml_with_columns({{"users",
                                        "      created_on: {data_type: timestamp}\n"
                                        "      last_login: {data_type: timestamp}\n"
                                        "      title: {data_type: text, nullable: true}\n"}});
  auto second = run_sync(yaml, emu, db, only_users());
  INFO(second.log);
  REQUIRE(second.status == 0);
  CHECK(column_type(db, "users", "created_on") == "timestamp with time zone");
  CHECK(column_type(db, "users", "last_login") == "timestamp with time zone");
  CHECK(count_lines(second.log, "event=column_changed") == 2);
  CHECK(db.scalar("SELECT type FROM analytics._rs_columns WHERE resource = 'users' AND "
                  "column_name = 'created_on'") == "timestamptz");
  // The converted rows are the API's records: nothing to update.
  CHECK(db.scalar("SELECT updated || ' ' || inserted FROM analytics._rs_runs ORDER BY id DESC "
                  "LIMIT 1") == "0 0");
  CHECK(db.scalar("SELECT count(*) FROM analytics.users") == rows);
  check_tables_equal_truth(emu, db, {"users"});

  auto third = run_sync(yaml, emu, db, only_users());
  INFO(third.log);
  REQUIRE(third.status == 0);
  CHECK(third.log.find("event=column_changed") == std::string::npos);
}

TEST_CASE("a hint the rows cannot take is refused, naming the count; nothing changes") {
  emulator emu;
  scratch_database db;
  auto first = run_sync(analytics_yaml({}), emu, db);
  INFO(first.log);
  REQUIRE(first.status == 0);
  const auto titles = db.scalar("SELECT count(title) FROM analytics.users");
  const auto null_logins =
      db.scalar("SELECT count(*) FROM analytics.users WHERE last_login IS NULL");
  REQUIRE(titles != "0");
  REQUIRE(null_logins != "0");

  auto bad_type =
      run_sync(yaml_with_columns({{"users", "      title: {data_type: timestamp}\n"}}), emu, db);
  INFO(bad_type.log);
  CHECK(bad_type.status == 1);
  CHECK(bad_type.log.find("cannot convert column title (text) in place: " + titles + " of its " +
                          titles + " values do not fit") != std::string::npos);
  CHECK(bad_type.log.find("event=summary resource=labels status=ok") != std::string::npos);
  CHECK(column_type(db, "users", "title") == "text");

  auto bad_null = run_sync(
      yaml_with_columns({{"users", "      last_login: {data_type: timestamp, nullable: false}\n"}}),
      emu, db);
  INFO(bad_null.log);
  CHECK(bad_null.status == 1);
  CHECK(bad_null.log.find("column last_login is hinted `nullable: false`, but " + null_logins +
                          " of the table's rows have no value there") != std::string::npos);
  // Refused whole: the type was not converted either.
  CHECK(column_type(db, "users", "last_login") == "bigint");
  check_tables_equal_truth(emu, db);
}

TEST_CASE("nullable: false meets a null: that resource fails naming the column; others sync") {
  emulator emu;
  scratch_database db;
  const auto id = [&] {
    const auto truth = emu.truth("campaigns");
    const auto start = truth.find("{\"id\":") + 6;
    return truth.substr(start, truth.find_first_of(",}", start) - start);
  }();
  REQUIRE(emu.mutate(R"({"ops":[{"op":"change","resource":"campaigns","id":)" + id +
                     R"(,"fields":{"createdOn":null}}]})")
              .status == 200);
  auto r =
      run_sync(yaml_with_columns(
                   {{"campaigns", "      created_on: {data_type: timestamp, nullable: false}\n"}}),
               emu, db);
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(r.log.find("has no value for column created_on, which its hint makes `nullable: false`") !=
        std::string::npos);
  check_tables_equal_truth(emu, db, {"users", "labels", "accounts"});
}

TEST_CASE("a text hint on an integer key: deletions are still told row by row") {
  emulator emu;
  scratch_database db;
  const auto yaml = yaml_with_columns({{"labels", "      id: {data_type: text}\n"}});
  auto first = run_sync(yaml, emu, db, {"--resource", "labels"});
  INFO(first.log);
  REQUIRE(first.status == 0);
  CHECK(column_type(db, "labels", "id") == "text");
  REQUIRE(
      emu.mutate(R"({"ops":[{"op":"remove","resource":"labels","count":1,"position":"spread"}]})")
          .status == 200);
  auto second = run_sync(yaml, emu, db, {"--resource", "labels"});
  INFO(second.log);
  REQUIRE(second.status == 0);
  CHECK(db.scalar("SELECT count(*) FROM analytics.labels WHERE _rs_deleted_at IS NOT NULL") == "1");
  CHECK(db.scalar("SELECT count(*) FROM analytics.labels WHERE _rs_deleted_at IS NULL") ==
        std::to_string(count_lines(emu.truth("labels"), "{\"id\":")));
}

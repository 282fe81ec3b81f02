// `columns` (dlt's column hints) as the configuration reads them, the key
// they may add to, and what check-config shows.
#include "restsync/plan/column_hints.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "restsync/config/config.hpp"
#include "restsync/config/load.hpp"
#include "restsync/plan/describe.hpp"

using namespace restsync;

namespace {

// Line 9 is `    columns:` and the first hint is on line 10.
const std::string minimal = R"(client:
  base_url: https://api.test
resources:
  - name: users
    primary_key: id
    endpoint:
      path: /v1/users
      paginator: single_page
)";

config load(const std::string& text) { return load_config_from_string(text, "t.yaml", {}); }

std::vector<std::string> errors_of(const std::string& text) {
  try {
    load(text);
  } catch (const config_error& e) {
    return e.messages();
  }
  FAIL("the configuration was accepted");
  return {};
}

std::string only_error(const std::string& text) {
  auto errors = errors_of(text);
  REQUIRE(errors.size() == 1);
  return errors.front();
}

std::string with_columns(const std::string& lines) { return minimal + "    columns:\n" + lines; }

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("columns: every hint dlt has that restsync stores") {
  auto cfg =
      load(with_columns("      created_on: {data_type: timestamp, nullable: false}\n"
                        "      amount: {data_type: decimal, precision: 12, scale: 2}\n"
                        "      total: {data_type: decimal}\n"
                        "      note: {data_type: text, name: note}\n"
                        "      flags: {data_type: json}\n"
                        "      day: {data_type: date}\n"
                        "      ok: {data_type: bool}\n"
                        "      ratio: {data_type: double}\n"
                        "      count: {data_type: bigint}\n"
                        "      title: {nullable: true}\n"));
  const auto& c = cfg.resources.at(0).columns;
  REQUIRE(c.size() == 10);
  CHECK(c[0] == column_hint_config{"created_on", column_data_type::timestamp, false, 0, 0, false});
  CHECK(c[1] == column_hint_config{"amount", column_data_type::decimal, true, 12, 2, false});
  CHECK(c[9] == column_hint_config{"title", std::nullopt, true, 0, 0, false});

  const auto hints = store_hints(c);
  CHECK(hints[0] == column_hint{"created_on", column_type{pg_type::timestamptz, 0, 0}, true});
  CHECK(sql_type(*hints[1].type) == "numeric(12,2)");
  CHECK(sql_type(*hints[2].type) == "numeric");
  CHECK(sql_type(*hints[3].type) == "text");
  CHECK(sql_type(*hints[4].type) == "jsonb");
  CHECK(sql_type(*hints[5].type) == "date");
  CHECK(sql_type(*hints[6].type) == "boolean");
  CHECK(sql_type(*hints[7].type) == "double precision");
  CHECK(sql_type(*hints[8].type) == "bigint");
  CHECK_FALSE(hints[9].type);

  const auto plan = describe_plan(cfg);
  CHECK(contains(plan, "created_on timestamp (timestamptz), not null;"));
  CHECK(contains(plan, "amount decimal (numeric(12,2));"));
  CHECK(contains(plan, "total decimal (numeric);"));
  CHECK(contains(plan, "title (type from the values);"));
  CHECK(contains(plan, "a value that does not fit goes to <column>__v_<type>"));
}

TEST_CASE("columns: mistakes are named where they are") {
  CHECK(only_error(with_columns("      createdOn: {data_type: timestamp}\n")) ==
        "t.yaml:10:7: resources[0].columns.createdOn: `createdOn` is not a column name restsync "
        "makes: the naming rules (snake_case, at most 63 bytes) turn a field `createdOn` into "
        "the column `created_on`; name the column as the table has it: `created_on`");
  CHECK(contains(only_error(with_columns("      created_on: {data_type: timestmap}\n")),
                 "t.yaml:10:31: resources[0].columns.created_on.data_type: `timestmap` is not "
                 "one of text, bigint, double, bool, timestamp, date, decimal, json; did you "
                 "mean `timestamp`?"));
  CHECK(contains(only_error(with_columns("      blob: {data_type: binary}\n")),
                 "dlt's data_type `binary` is not one restsync stores; use `text`"));
  CHECK(contains(only_error(with_columns("      n: {data_type: bigint, precision: 10}\n")),
                 "t.yaml:10:41: resources[0].columns.n.precision: `precision` applies to "
                 "data_type `decimal` only"));
  CHECK(contains(only_error(with_columns("      n: {data_type: decimal, precision: 4, scale: "
                                         "6}\n")),
                 "scale 6 is more than precision 4"));
  CHECK(contains(only_error(with_columns("      n: {data_type: decimal, scale: 2}\n")),
                 "`scale` needs `precision` beside it"));
  CHECK(contains(only_error(with_columns("      n: {data_type: text, partition: true}\n")),
                 "t.yaml:10:28: resources[0].columns.n.partition: dlt's column hint "
                 "`partition` has no meaning in restsync"));
  CHECK(contains(only_error(with_columns("      n: {data_type: text, nulable: false}\n")),
                 "unknown key `nulable` in `resources[0].columns.n`; did you mean `nullable`?"));
  CHECK(contains(only_error(with_columns("      _rs_synced_at: {data_type: text}\n")),
                 "is a name no data column gets"));
  CHECK(contains(only_error(with_columns("      a__v_text: {data_type: text}\n")),
                 "turn a field `a__v_text` into the column `a_v_text`"));
  CHECK(contains(only_error(with_columns("      n: {data_type: text, name: m}\n")),
                 "`m` differs from the column's key `n`"));
  CHECK(contains(only_error(with_columns("      n: timestamp\n")), "expected a map of hints"));
}

TEST_CASE("columns: primary_key hints and the resource's primary_key") {
  SUBCASE("without a primary_key, the hinted columns are the key, in order") {
    std::string text = minimal;
    text.replace(text.find("    primary_key: id\n"), 20, "");
    auto cfg = load(text +
                    "    columns:\n      uid: {primary_key: true}\n      region: "
                    "{data_type: text, primary_key: true}\n");
    CHECK(cfg.resources[0].primary_key == std::vector<std::string>{"uid", "region"});
  }
  SUBCASE("a hint on a column the key names agrees with it") {
    auto cfg = load(with_columns("      id: {data_type: bigint, primary_key: true}\n"));
    CHECK(cfg.resources[0].primary_key == std::vector<std::string>{"id"});
  }
  SUBCASE("a hinted key column outside the resource's primary_key is refused, not merged") {
    CHECK(contains(only_error(with_columns("      uid: {primary_key: true}\n")),
                   "t.yaml:10:26: resources[0].columns.uid.primary_key: column `uid` is hinted "
                   "`primary_key: true`, but the resource's primary_key (here or from "
                   "resource_defaults) is [id]; restsync does not merge the two"));
  }
  SUBCASE("primary_key: false on a key column contradicts it") {
    CHECK(contains(only_error(with_columns("      id: {primary_key: false}\n")),
                   "`primary_key: false` on column `id` contradicts the resource's primary_key"));
  }
  SUBCASE("a key is never nullable") {
    CHECK(contains(only_error(with_columns("      id: {primary_key: true, nullable: true}\n")),
                   "a primary key column is never null"));
  }
}

TEST_CASE("columns in resource_defaults merge column by column; a resource's null removes one") {
  const std::string text = R"(client:
  base_url: https://api.test
resource_defaults:
  primary_key: id
  columns:
    created_on: {data_type: timestamp}
    updated_at: {data_type: timestamp}
  endpoint: {paginator: single_page}
resources:
  - name: users
    columns:
      created_on: {nullable: false}
      updated_at: ~
    endpoint: /v1/users
  - name: labels
    endpoint: /v1/labels
)";
  auto cfg = load(text);
  const auto& users = cfg.resources.at(0).columns;
  REQUIRE(users.size() == 1);
  CHECK(users[0] ==
        column_hint_config{"created_on", column_data_type::timestamp, false, 0, 0, false});
  CHECK(cfg.resources.at(1).columns.size() == 2);
}

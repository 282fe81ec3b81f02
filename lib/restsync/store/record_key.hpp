// The one rendering of a record's primary key, wherever keys are compared:
// the page repeat guard and anchor checks of the engine, the deduplication of
// an upsert statement, and the deletion evidence that compares a run's
// records with the rows PostgreSQL returns.
//
// A key is the JSON array of its fields' values, `[42,"abc"]`, byte for byte
// as RapidJSON's Writer prints it (so it also reads well in messages). It is
// injective: two keys are equal exactly when their values are. A row read
// back from PostgreSQL renders the same: a bigint key column's text (`k::text`)
// is the integer, a text column's is the string, so a record and its row have
// the same key whenever the record could be written at all (a value of
// another type goes to a variant column and leaves the key column NULL).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "restsync/paging/page.hpp"
#include "restsync/store/schema.hpp"

namespace restsync::db {

// Builds one key, part by part; reused from key to key so that it stops
// allocating once warm.
class key_builder {
 public:
  key_builder() { clear(); }
  void clear() { text_.assign(1, '['); }
  // An integer as PostgreSQL prints a bigint (decimal digits, maybe a '-').
  void add_integer(std::string_view digits);
  // A string, JSON-quoted.
  void add_string(std::string_view s);
  // Any JSON value as RapidJSON's Writer prints it.
  void add_json(const rapidjson::Value& v);
  void add_null();
  // A key column's value as PostgreSQL prints it (`k::text`), or as
  // table_schema::fill_row renders it: bigint as an integer, any other type
  // as a string.
  void add_column(pg_type type, std::string_view text);
  // The key so far, closed. Valid until the builder changes.
  std::string_view finish();

 private:
  void separate();
  std::string text_;
};

// The record's key over fields; a missing field is null. Every record has one.
std::string record_key(const rapidjson::Value& record, const std::vector<std::string>& fields);

// The record's key when each of its fields is an integer or a string that a
// bigint or text key column prints back unchanged (no NUL), which is what
// deletion evidence can compare with rows; nullopt otherwise. columns: the
// key columns' types when known: an integer in a text column (a text column
// hint takes numbers as their digits) is its digits as a string.
std::optional<std::string> comparable_key(const rapidjson::Value& record,
                                          const std::vector<std::string>& fields,
                                          const std::vector<pg_type>& columns = {});

}  // namespace restsync::db

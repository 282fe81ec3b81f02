// SQL text for the store, built from a table's columns: every identifier is
// quoted, every value travels as a bind parameter (never spliced into SQL).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "restsync/schema.hpp"

namespace restsync::sql {

// "schema"."table"
std::string qualified(std::string_view schema, std::string_view table);

// Appends one element to a PostgreSQL text[] literal under construction
// (`{` … `}`): NULL unquoted, any other value double-quoted with `\` and `"`
// escaped, so any text, commas and braces included, round-trips.
void append_array_element(std::string& literal, std::optional<std::string_view> value);

// Finishes a literal begun with an empty string: `{}` for no elements.
void close_array(std::string& literal);

struct table_ref {
  std::string schema;
  std::string table;
};

// CREATE TABLE IF NOT EXISTS with the primary key columns and the system
// columns _rs_synced_at and _rs_deleted_at; no primary key without key columns.
std::string create_table(const table_ref& t, const std::vector<column_def>& key_columns);

// ALTER TABLE … ADD COLUMN IF NOT EXISTS for each column.
std::string add_columns(const table_ref& t, const std::vector<column_def>& columns);

// The upsert of a batch given as one text[] parameter per column ($1 … $n, in
// the order of columns): rows whose content did not change are left alone
// (and not returned); each returned row says whether it was inserted.
// key_columns are indexes into columns. With update_existing false (append)
// rows whose key exists are left as they are and only new rows are inserted;
// without key columns every row is inserted.
std::string upsert(const table_ref& t, const std::vector<column_def>& columns,
                   const std::vector<size_t>& key_columns, bool update_existing = true);

}  // namespace restsync::sql

// SQL text for the store, built from a table's columns: every identifier is
// quoted, every value travels as a bind parameter (never spliced into SQL).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "restsync/store/schema.hpp"

namespace restsync::sql {

// "schema"."table"
std::string qualified(std::string_view schema, std::string_view table);

// A text[] bind parameter in PostgreSQL's binary format (what array_recv
// reads: one dimension, element type text): each element is its length and
// its bytes, so nothing is escaped here nor parsed by the server. Pass it as
// a binary parameter.
class binary_text_array {
 public:
  binary_text_array() { clear(); }
  void clear();
  void append(std::optional<std::string_view> value);
  // The parameter, header included; append nothing more before clear().
  const std::string& finish();

 private:
  std::string bytes_;
  std::int32_t elements_ = 0;
  bool has_null_ = false;
};

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
// the order of columns; see binary_text_array): rows whose content did not
// change are left alone. It returns one row: the rows inserted and the rows
// updated (bigint, bigint). key_columns are indexes into columns. With
// update_existing false (append) rows whose key exists are left as they are
// and only new rows are inserted; without key columns every row is inserted.
std::string upsert(const table_ref& t, const std::vector<column_def>& columns,
                   const std::vector<size_t>& key_columns, bool update_existing = true);

}  // namespace restsync::sql

#include "restsync/store/sql.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "restsync/store/naming.hpp"

namespace restsync::sql {

std::string qualified(std::string_view schema, std::string_view table) {
  return quote_ident(schema) + "." + quote_ident(table);
}

namespace {

constexpr size_t binary_array_header = 20;  // ndim, flags, element type, size, lower bound
constexpr std::int32_t text_oid = 25;

void put_int32(char* at, std::int32_t v) {
  const auto u = static_cast<std::uint32_t>(v);
  at[0] = static_cast<char>(u >> 24);
  at[1] = static_cast<char>(u >> 16);
  at[2] = static_cast<char>(u >> 8);
  at[3] = static_cast<char>(u);
}

}  // namespace

void binary_text_array::clear() {
  bytes_.assign(binary_array_header, '\0');
  elements_ = 0;
  has_null_ = false;
}

void binary_text_array::append(std::optional<std::string_view> value) {
  char length[4];
  if (value && value->size() > static_cast<size_t>(std::numeric_limits<std::int32_t>::max()))
    throw std::length_error("a value too long for a PostgreSQL parameter");
  put_int32(length, value ? static_cast<std::int32_t>(value->size()) : -1);
  bytes_.append(length, 4);
  if (value)
    bytes_.append(*value);
  else
    has_null_ = true;
  ++elements_;
}

const std::string& binary_text_array::finish() {
  char* h = bytes_.data();
  if (elements_ == 0) {
    // An empty array has no dimension.
    put_int32(h, 0);
    put_int32(h + 4, 0);
    put_int32(h + 8, text_oid);
    bytes_.resize(12);
    return bytes_;
  }
  put_int32(h, 1);
  put_int32(h + 4, has_null_ ? 1 : 0);
  put_int32(h + 8, text_oid);
  put_int32(h + 12, elements_);
  put_int32(h + 16, 1);
  return bytes_;
}

std::string create_table(const table_ref& t, const std::vector<column_def>& key_columns) {
  std::string cols, keys;
  for (const auto& c : key_columns) {
    cols += fmt::format("{} {} NOT NULL, ", quote_ident(c.name), sql_type(c.full_type()));
    if (!keys.empty()) keys += ", ";
    keys += quote_ident(c.name);
  }
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {} ({}\"_rs_synced_at\" timestamptz NOT NULL DEFAULT now(), "
      "\"_rs_deleted_at\" timestamptz{})",
      qualified(t.schema, t.table), cols, keys.empty() ? "" : ", PRIMARY KEY (" + keys + ")");
}

std::string add_columns(const table_ref& t, const std::vector<column_def>& columns) {
  std::string out = "ALTER TABLE " + qualified(t.schema, t.table);
  bool first = true;
  for (const auto& c : columns) {
    out += first ? " " : ", ";
    first = false;
    out +=
        fmt::format("ADD COLUMN IF NOT EXISTS {} {}", quote_ident(c.name), sql_type(c.full_type()));
  }
  return out;
}

std::string upsert(const table_ref& t, const std::vector<column_def>& columns,
                   const std::vector<size_t>& key_columns, bool update_existing) {
  std::string names, casts, arrays, aliases, sets, old_row, new_row, keys;
  for (size_t i = 0; i < columns.size(); ++i) {
    const auto q = quote_ident(columns[i].name);
    const auto sep = i == 0 ? "" : ", ";
    names += sep + q;
    casts += fmt::format("{}u.{}::{}", sep, q, sql_name(columns[i].type));
    arrays += fmt::format("{}${}::text[]", sep, i + 1);
    aliases += sep + q;
  }
  bool first_set = true;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (std::find(key_columns.begin(), key_columns.end(), i) != key_columns.end()) continue;
    const auto q = quote_ident(columns[i].name);
    const auto sep = first_set ? "" : ", ";
    first_set = false;
    sets += fmt::format("{}{} = EXCLUDED.{}", sep, q, q);
    old_row += fmt::format("{}t.{}", sep, q);
    new_row += fmt::format("{}EXCLUDED.{}", sep, q);
  }
  for (size_t k : key_columns) {
    if (!keys.empty()) keys += ", ";
    keys += quote_ident(columns.at(k).name);
  }
  std::string conflict;
  if (key_columns.empty()) {
    // No key (append or replace without primary_key): every row is new.
    return fmt::format(
        "WITH w AS (INSERT INTO {} AS t ({}, \"_rs_synced_at\") SELECT {}, now() FROM unnest({}) "
        "AS u({}) RETURNING 1) SELECT count(*), 0::bigint FROM w",
        qualified(t.schema, t.table), names, casts, arrays, aliases);
  }
  if (!update_existing) {
    conflict = "DO NOTHING";
  } else if (sets.empty()) {
    // Only key columns: a row that exists is unchanged unless it was marked deleted.
    conflict =
        "DO UPDATE SET \"_rs_synced_at\" = EXCLUDED.\"_rs_synced_at\", "
        "\"_rs_deleted_at\" = NULL WHERE t.\"_rs_deleted_at\" IS NOT NULL";
  } else {
    // ROW() keeps a one-column comparison a row comparison.
    conflict = fmt::format(
        "DO UPDATE SET {}, \"_rs_synced_at\" = EXCLUDED.\"_rs_synced_at\", "
        "\"_rs_deleted_at\" = NULL WHERE ROW({}) IS DISTINCT FROM ROW({}) OR "
        "t.\"_rs_deleted_at\" IS NOT NULL",
        sets, old_row, new_row);
  }
  return fmt::format(
      "WITH w AS (INSERT INTO {} AS t ({}, \"_rs_synced_at\") SELECT {}, now() FROM unnest({}) "
      "AS u({}) ON CONFLICT ({}) {} RETURNING (t.xmax = 0) AS inserted) "
      "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM w",
      qualified(t.schema, t.table), names, casts, arrays, aliases, keys, conflict);
}

}  // namespace restsync::sql

// The table catalog of one connection thread: each resource's table, its
// columns (as _rs_columns records them) and its key columns, loaded once per
// run at begin_run, and changed as pages need new columns. A transaction's
// changes are undone when it rolls back.
#pragma once

#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "restsync/store/naming.hpp"
#include "restsync/store/schema.hpp"
#include "restsync/store/sql.hpp"
#include "restsync/store/types.hpp"

namespace restsync::db {

struct table_state {
  sql::table_ref ref;
  std::vector<std::string> primary_key;
  write_mode mode = write_mode::merge;
  bool exists = false;
  table_schema schema;
  field_labels labels;  // how _rs_columns keys each field
  std::vector<size_t> key_columns;
  // Main columns a `nullable: false` hint makes NOT NULL (besides the key).
  std::vector<size_t> required_columns;
  // What loading the table changed for its hints (conversions, NOT NULL),
  // for the log: one line each.
  std::vector<std::string> converted;
  std::string upsert_sql;
  std::string upsert_name;  // the prepared statement of upsert_sql
  size_t upsert_columns = 0;
  // replace: the run in progress writes here; swapped in by finish_run.
  std::optional<sql::table_ref> staging;
  std::vector<column_hint> hints;
  // Hinted columns whose misfits the run in progress has logged.
  std::set<std::string> misfits_logged;

  // The table the run in progress writes to: the staging table of a replace run.
  const sql::table_ref& write_ref() const { return staging ? *staging : ref; }
};

// Whether the table exists (a resource's table before its first records,
// a parent's before it synced).
bool table_exists(pqxx::transaction_base& tx, const sql::table_ref& t);

class catalog {
 public:
  explicit catalog(std::string schema) : schema_(std::move(schema)) {}

  // Throws store_error for a resource name restsync keeps for its own tables.
  static void check_name(const std::string& resource);

  // Loads the resource's table from the database (its columns from
  // _rs_columns), replacing what the catalog held.
  void load(pqxx::transaction_base& tx, const table_spec& spec);

  // The resource's table, for a change the transaction may undo.
  table_state& for_change(const std::string& resource);
  // The resource's table, or nullptr when it was never loaded.
  table_state* find(const std::string& resource);

  // Makes the table (and its staging table) hold the columns records need:
  // creates them with the first records, adds columns and records them in
  // _rs_columns. offset: for messages. Returns the values of hinted columns
  // that went to variant columns.
  std::vector<hint_misfit> fit(pqxx::transaction_base& tx, const std::string& resource,
                               table_state& st, std::span<const rapidjson::Value* const> records,
                               std::int64_t offset);

  // A run of the resource begins: a replace resource gets a fresh staging
  // table (one a crashed run left is dropped), and the upsert statement is
  // made again for the table the run writes to.
  void start_run(pqxx::transaction_base& tx, const std::string& resource);
  // replace: the staging table's rows become the table's; returns how many.
  std::int64_t swap_in(pqxx::transaction_base& tx, const table_state& st);
  // The run of the resource ends: its staging table, if any, is dropped.
  void end_run(pqxx::transaction_base& tx, const std::string& resource);

  void begin_transaction() { undo_.clear(); }
  void committed() { undo_.clear(); }
  void rolled_back();

 private:
  table_state read(pqxx::transaction_base& tx, const table_spec& spec);
  static void resolve_keys(table_state& st);
  void create_tables(pqxx::transaction_base& tx, table_state& st, const std::string& resource,
                     std::int64_t offset);
  void persist_columns(pqxx::transaction_base& tx, const std::string& resource, table_state& st);
  // The hints applied to the columns that exist: types converted in place,
  // NOT NULL set or dropped; throws store_error when a value does not convert.
  void apply_hints(pqxx::transaction_base& tx, const table_spec& spec, table_state& st,
                   std::vector<column_def>& defs);
  void require_not_null(pqxx::transaction_base& tx, const table_state& st, const column_def& column,
                        bool table_is_new);

  std::string schema_;
  std::map<std::string, table_state> tables_;
  // Tables touched by the transaction in progress, as they were before it.
  std::map<std::string, table_state> undo_;
};

}  // namespace restsync::db

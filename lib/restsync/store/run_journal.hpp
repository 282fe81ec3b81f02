// The run journal: restsync's own tables in the destination schema, and the
// only code that reads or writes _rs_runs and _rs_state. The store writes
// through it inside its transactions; `restsyncd status` reads through it on
// a connection of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restsync/observe/run_counters.hpp"
#include "restsync/observe/status_report.hpp"
#include "restsync/store/types.hpp"

namespace restsync::db {

// A resource's _rs_state row as `status` shows it, times in ISO-8601 UTC.
struct journal_state {
  std::string resource;
  std::optional<std::string> last_success_at;
  std::optional<double> age_seconds;  // since the last success
  std::optional<std::string> last_error_at;
  std::optional<std::string> last_error;
  std::optional<std::string> last_complete_scan_at;
  std::optional<std::string> cursor;
};

class run_journal {
 public:
  explicit run_journal(std::string schema) : schema_(std::move(schema)) {}

  // Creates the schema and restsync's own tables (_rs_state, _rs_runs,
  // _rs_columns) when missing, and the columns later versions added.
  void create_tables(pqxx::transaction_base& tx) const;

  // Runs a previous process left 'running' become 'interrupted'.
  void mark_interrupted(pqxx::transaction_base& tx) const;

  // A new _rs_runs row for the resource, its _rs_state row if missing, and
  // what that state says (cursor, time since the last complete scan).
  // parent_value: a dependent resource's run for one parent (run_scope);
  // its state row is (resource, parent_value), the resource's own is ''.
  // instance: the daemon that holds the resource's lease; empty: none.
  run_start start_run(pqxx::transaction_base& tx, const std::string& resource,
                      const std::string& parent_value = {}, const std::string& instance = {}) const;

  // What the page writes of a transaction add to a run's row (pages,
  // records, inserted, updated, unchanged): the SQL of a prepared statement
  // with parameters id, then those five.
  std::string add_counts_sql() const;
  static void add_counts(pqxx::transaction_base& tx, const std::string& statement,
                         std::int64_t run_id, const run_counters& delta);

  // The incremental cursor a committed page justifies.
  void store_cursor(pqxx::transaction_base& tx, const std::string& resource,
                    const std::string& parent_value, const std::string& cursor) const;

  // The end of a run: its row, and its resource's state (with the cursor on
  // success, the error on failure).
  void finish_run(pqxx::transaction_base& tx, const run_summary& s, std::int64_t deleted,
                  const std::string& parent_value = {}) const;

  // Drops the state rows of a dependent resource's parents that are not
  // among live (parent values as JSON text); returns how many.
  std::int64_t drop_parent_states(pqxx::transaction_base& tx, const std::string& resource,
                                  const std::vector<std::string>& live) const;

  // Every resource's state, as the store reports it.
  std::vector<resource_state> states(pqxx::transaction_base& tx) const;

  // For `status`: every resource's state, and the last run of each, by
  // resource; empty when the tables do not exist (yet).
  std::vector<journal_state> status_states(pqxx::transaction_base& tx) const;
  std::vector<std::pair<std::string, run_row>> last_runs(pqxx::transaction_base& tx) const;
  // Who holds each resource's live lease (several daemons), by resource.
  std::vector<std::pair<std::string, std::string>> lease_holders(pqxx::transaction_base& tx) const;

 private:
  std::string table(std::string_view name) const;
  bool present(pqxx::transaction_base& tx, std::string_view name) const;

  std::string schema_;
};

}  // namespace restsync::db

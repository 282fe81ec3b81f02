// PostgreSQL access for integration tests (the PG* environment that
// scripts/test's throwaway cluster sets), and the check that a resource's
// table holds exactly what the emulator's /__truth says.
#pragma once

#include <string>
#include <vector>

namespace rs_test {

// A fresh database for one test, dropped when the object dies; its name goes
// into PGDATABASE-style connection strings via conninfo().
class scratch_database {
 public:
  scratch_database();
  ~scratch_database();
  scratch_database(const scratch_database&) = delete;
  scratch_database& operator=(const scratch_database&) = delete;

  const std::string& name() const { return name_; }
  std::string conninfo() const;  // "dbname=<name>" (the rest from PG*)

  // Runs sql; returns the rows, each field as text ("" for NULL is
  // indistinguishable: use IS NULL in SQL when it matters).
  std::vector<std::vector<std::string>> query(const std::string& sql) const;
  std::string scalar(const std::string& sql) const;

  // `ALTER DATABASE <this> <clause>`, from a session on the cluster's default
  // database: a setting such as default_transaction_read_only must not keep
  // the test from undoing it.
  void alter(const std::string& clause) const;
  // Ends every session on this database (as a failover or an operator
  // would); returns how many there were.
  int end_sessions() const;

  // Differences between the live rows of schema.table and truth (a JSON
  // array of records), field by field through restsync's _rs_columns
  // mapping, keyed by the fields in key. Empty when they are equal. Fields
  // that are null or absent in a record count as the same. With
  // subset_only, truth records missing from the table are not differences
  // (a sync that was cut short), but every row there must match the truth.
  std::vector<std::string> diff_with_truth(const std::string& schema, const std::string& resource,
                                           const std::string& truth_json,
                                           const std::vector<std::string>& key,
                                           bool subset_only = false) const;

  // The keys (joined with '|') of every row that differs, as diff_with_truth
  // decides, without its limit on how many are reported.
  std::vector<std::string> differing_keys(const std::string& schema, const std::string& resource,
                                          const std::string& truth_json,
                                          const std::vector<std::string>& key,
                                          bool subset_only = false) const;

 private:
  // [key, table doc, truth doc] of the differing rows, at most limit (0: all).
  std::vector<std::vector<std::string>> differences(const std::string& schema,
                                                    const std::string& resource,
                                                    const std::string& truth_json,
                                                    const std::vector<std::string>& key,
                                                    bool subset_only, int limit) const;
  std::string name_;
};

}  // namespace rs_test

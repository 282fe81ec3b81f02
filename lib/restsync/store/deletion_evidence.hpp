// Deletion evidence of the runs on one connection thread: the keys each run
// committed (seen_keys), and the rows of its table whose keys no scan saw,
// which finish_run marks deleted (or deletes) after a sound complete scan.
// Keys are compared as record_key renders them, from records and from the
// rows' `k::text` alike.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <span>
#include <string>
#include <vector>

#include "restsync/store/catalog.hpp"
#include "restsync/store/seen_keys.hpp"
#include "restsync/store/sql.hpp"

namespace restsync::db {

class deletion_evidence {
 public:
  // A run begins (takes effect when its transaction commits). scope: the
  // fields and values (JSON text) of the only rows the run may mark: a
  // dependent resource's rows of one parent.
  void start(std::int64_t run_id, const std::string& resource, bool track_keys,
             std::vector<std::pair<std::string, std::string>> scope = {});

  // The run writes again: what end_pass counted is stale.
  void invalidate(std::int64_t run_id) { unseen_cache_.erase(run_id); }

  // A page of the run is written: its keys join the run's pass when the
  // transaction commits. all: every record of the page, skipped ones too.
  void note(std::int64_t run_id, const table_state& st,
            std::span<const rapidjson::Value* const> all);

  // Ends a scan of the run: counts its repeats and, with count_unseen, the
  // live rows no scan has seen so far (kept for finish_run until the run
  // writes again).
  pass_check end_pass(pqxx::transaction_base& tx, std::int64_t run_id, bool count_unseen,
                      catalog& tables);

  // Marks (or deletes) the rows the run did not see, when s asks for it;
  // returns how many, and sets skipped when it could not tell.
  std::int64_t mark(pqxx::transaction_base& tx, const run_summary& s, const table_state& st,
                    std::string& skipped);

  // The run ends (takes effect when its transaction commits).
  void finish(std::int64_t run_id) { finished_ = run_id; }

  void begin_transaction() { forget_transaction(); }
  void committed();
  void rolled_back() { forget_transaction(); }

 private:
  struct tracked_run {
    std::string resource;
    bool track_keys = false;
    std::string untracked;  // why keys stopped being tracked
    seen_keys keys;
    std::vector<std::pair<std::string, std::string>> scope;
  };
  // The live rows whose keys the run has not seen, as one text[] per key
  // column.
  struct unseen_rows {
    std::vector<sql::binary_text_array> arrays;
    std::int64_t count = 0;
  };

  unseen_rows find_unseen(pqxx::transaction_base& tx, const table_state& st, tracked_run& run,
                          bool hard, std::string& skipped);
  void forget_transaction();

  // Runs in progress, by id.
  std::map<std::int64_t, tracked_run> runs_;
  // What the last end_pass of a run found unseen, until the run writes
  // again: its finish_run then marks these instead of reading every key of
  // the table a second time. A row another writer adds in between is not
  // in it, and so not marked: the safe side.
  std::map<std::int64_t, std::shared_ptr<unseen_rows>> unseen_cache_;

  // The transaction in progress: what its commit changes.
  std::map<std::int64_t, std::vector<std::uint64_t>> tx_keys_;
  std::optional<std::pair<std::int64_t, tracked_run>> started_;
  std::optional<std::pair<std::int64_t, std::shared_ptr<unseen_rows>>> counted_;
  std::optional<std::int64_t> finished_;
};

}  // namespace restsync::db

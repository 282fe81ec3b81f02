// The PostgreSQL side of restsync: threads that each own a connection and
// run its statements, so the event loop never blocks on the database. A run
// is served by one of them from begin_run to finish_run; concurrent runs are
// spread over them. Callers co_await results; consecutive page writes are
// committed together (group commit), each page whole or not at all, with the
// run and state rows that describe it in the same transaction.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "restsync/observe/run_counters.hpp"
#include "restsync/paging/page.hpp"

namespace restsync {
class logger;
}

namespace restsync::db {

struct store_settings {
  std::string connection;  // libpq connection string; empty: PG* environment
  std::string schema = "analytics";
  // How long to keep reconnecting when the database is unreachable (or its
  // sessions are read-only) before the waiting writes fail.
  std::chrono::milliseconds reconnect_for{300'000};
  std::chrono::milliseconds reconnect_max_backoff{10'000};
  // Group commit: at most this many records in one transaction.
  std::size_t max_batch_records = 5000;
  // Connections, each with its own thread; concurrent runs are spread over
  // them (a run's pages all go through one, in order).
  std::size_t connections = 2;
};

// A failure of the store; the message names the table and what PostgreSQL said.
class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How a resource's records reach its table (config's write_disposition).
enum class write_mode {
  merge,    // upsert on the primary key; changed rows updated
  append,   // insert records whose key is new; existing rows never change
  replace,  // pages go to a staging table that replaces the table's rows at
            // the end of a complete run, in one transaction
};

struct table_spec {
  std::string resource;
  std::vector<std::string> primary_key;  // record fields
  write_mode mode = write_mode::merge;
};

// One page to commit, and the counters of the run it belongs to.
struct page_write {
  std::string resource;
  std::int64_t run_id = 0;
  std::shared_ptr<const page> data;
  std::int64_t offset = 0;  // for messages
  // Records not to write (filtered out by an incremental cursor): skip[i]
  // for records()[i]; empty writes every record. Skipped records still count
  // as seen for deletion detection: the API returned them.
  std::vector<char> skip;
  // The incremental cursor to store in _rs_state with this page, when the
  // pages committed so far justify it.
  std::optional<std::string> cursor;
};

struct run_options {
  // Remember the key of every record of the run (8 bytes each), so that
  // finish_run can mark the rows the run did not see (deletion detection)
  // and end_pass can count keys a scan met twice.
  bool track_keys = false;
};

struct run_start {
  std::int64_t run_id = 0;
  std::optional<std::string> cursor;  // _rs_state.cursor_value
  // Seconds since the last complete scan; nullopt: never.
  std::optional<double> since_complete_scan;
};

enum class run_status { running, succeeded, failed, interrupted };

struct run_summary {
  std::int64_t run_id = 0;
  std::string resource;
  run_status status = run_status::succeeded;
  // The run's counters; the run's row takes requests, retries,
  // rate_limited and rescans from here (its page counts were added as the
  // pages committed).
  run_counters counts;
  bool complete_scan = false;  // every record of the resource was read
  std::string error;           // empty on success
  // On success: the cursor to store (in the same transaction as the run's end).
  std::optional<std::string> cursor;
  // On success, for a run with track_keys: the rows whose records the run
  // did not see get _rs_deleted_at (or are deleted with hard_delete). Only
  // for a sound complete scan; the caller decides.
  bool mark_deleted = false;
  bool hard_delete = false;
};

struct pass_check {
  // Records the scan met more than once, by key.
  std::int64_t repeated = 0;
  // Live rows of the table whose keys no scan of the run has seen so far:
  // what a deletion mark would mark now (0 unless count_unseen).
  std::int64_t unseen = 0;
};

struct finish_counts {
  std::int64_t deleted = 0;   // rows marked deleted (or removed) by this run
  std::int64_t replaced = 0;  // replace: rows in the table after the swap
  // Why deletions were not marked although asked, if they were not.
  std::string deletions_skipped;
};

struct resource_state {
  std::string resource;
  std::optional<std::string> last_success_at;  // ISO-8601, from PostgreSQL
  std::optional<std::string> last_error_at;
  std::optional<std::string> last_error;
  std::optional<std::string> last_complete_scan_at;
};

class store {
 public:
  // log: where reconnects are reported, from the store's threads; none: nowhere.
  store(boost::asio::any_io_executor ex, store_settings settings, logger* log = nullptr);
  // Finishes queued work, then closes the connection. While the database is
  // unreachable it no longer waits for it: what is still queued fails (and
  // is read again by the next run).
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  // Connects and creates the schema and restsync's own tables if missing;
  // marks runs left 'running' by a previous process as interrupted.
  boost::asio::awaitable<void> open();

  // Creates the resource's table when missing and loads its column mapping.
  boost::asio::awaitable<void> prepare(table_spec spec);

  // A new _rs_runs row, and what the resource's state says. A replace
  // resource gets a fresh staging table (one a crashed run left is dropped).
  boost::asio::awaitable<run_start> begin_run(std::string resource, run_options options = {});

  // Upserts the page's records; adds the columns they need first. The
  // _rs_runs row of the run is updated in the same transaction. Pages of one
  // run that share a transaction are upserted by one statement, whose counts
  // the first of them returns (the others return zeros): add them up per
  // run. Only inserted, updated and unchanged are set.
  boost::asio::awaitable<run_counters> write(page_write w);

  // Ends one scan of a run that tracks keys (a run may scan again when the
  // data moved). Call after every write of the scan completed. count_unseen:
  // also read the table's keys to count the unseen rows (only worth it for a
  // run that may mark deletions).
  boost::asio::awaitable<pass_check> end_pass(std::int64_t run_id, bool count_unseen);

  // Records the end of a run. On success it also stores the cursor, marks
  // deletions (mark_deleted) and swaps a replace resource's staging table in,
  // all in one transaction; on failure a staging table is dropped.
  boost::asio::awaitable<finish_counts> finish_run(run_summary summary);

  boost::asio::awaitable<std::vector<resource_state>> states();

  const store_settings& settings() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace restsync::db

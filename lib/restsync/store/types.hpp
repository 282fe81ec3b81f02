// The store's vocabulary: its settings, what a run writes and what it gets
// back. Plain values, shared by the store's interface (store.hpp) and its
// parts (connection thread, catalog, upsert writer, run journal), so that the
// parts need not include the interface they implement.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "restsync/observe/run_counters.hpp"
#include "restsync/paging/page.hpp"
#include "restsync/store/schema.hpp"

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
  // Config's `columns`: types for columns yet to be made, conversions of
  // columns that exist (when the table is loaded), NOT NULL.
  std::vector<column_hint> hints = {};
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

// A dependent resource's run for one parent row: its state row in
// _rs_state is the parent's, and the rows it may mark deleted are those
// that hold the parent's values.
struct run_scope {
  // The parent's values as JSON text (`17`; `["a",1]` for several fields):
  // _rs_state.parent_value and _rs_runs.parent_value.
  std::string parent_value;
  // The record fields that hold the parent's values, each with its value
  // as JSON text.
  std::vector<std::pair<std::string, std::string>> fields;
};

// A run's claim on its resource when several daemons share the database
// (store/leases.hpp): every page the run writes, and its end, verify in the
// same transaction that the lease is still this one.
struct fence {
  std::string instance;
  std::int64_t token = 0;
};

// What asking for a resource's lease gave.
struct lease_answer {
  std::optional<std::int64_t> token;  // granted: the lease's fencing token
  std::string holder;                 // who holds it now (when not granted)
  // Not granted: seconds until it may be granted (the holder's lease ends
  // or the resource falls due), as the database sees it.
  double wait_seconds = 0;
};

struct run_options {
  // Remember the key of every record of the run (8 bytes each), so that
  // finish_run can mark the rows the run did not see (deletion detection)
  // and end_pass can count keys a scan met twice.
  bool track_keys = false;
  // A dependent resource's run for one parent; none: the resource's run.
  std::optional<run_scope> scope;
  // The lease the run holds (restsyncd run); none: `restsyncd sync`.
  std::optional<fence> lease;
};

// The live rows of a parent resource's table (not marked deleted), for its
// dependent resources.
struct parent_rows {
  // The parent has a successful run in this database.
  bool synced = false;
  // Fields whose column the parent's table does not have (yet).
  std::vector<std::string> missing;
  // Per row, each asked field's value as JSON text (nullopt: NULL), distinct.
  std::vector<std::vector<std::optional<std::string>>> rows;
};

// Rows of a dependent resource whose parent is no longer a live row of the
// parent's table: marked deleted (or removed with hard_delete), and their
// parents' _rs_state rows dropped.
struct orphan_rule {
  std::string resource;  // the dependent resource
  std::string parent;
  // Each key field of the parent and the child field that holds its value.
  std::vector<std::pair<std::string, std::string>> fields;
  bool hard_delete = false;
};

// What earlier scans of a resource learnt about how its API pages, kept in
// _rs_state for the next run.
struct paging_memory {
  // The page size the server serves in full (the limit, or a silent cap).
  std::optional<std::int64_t> page_size;
  // A short page was followed by records: short pages are no proof of the
  // end, so scans confirm every end with an empty page.
  bool page_sizes_vary = false;
  // Seconds since an empty page last confirmed that a short page was the
  // end (or since a scan first ended on one); nullopt: never.
  std::optional<double> since_short_page_check;
  // Keys a sound scan met twice that a scan after it met twice again (the
  // API serves those records at two positions, the data holding still):
  // how many. A next run's first scan with exactly as many is not taken
  // for moving data.
  std::int64_t stable_repeats = 0;
};

struct run_start {
  std::int64_t run_id = 0;
  std::optional<std::string> cursor;  // _rs_state.cursor_value
  // Seconds since the last complete scan; nullopt: never.
  std::optional<double> since_complete_scan;
  paging_memory paging;
};

enum class run_status { running, succeeded, failed, interrupted, abandoned };

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
  // A dependent resource's own run, whose pages its parents' runs wrote:
  // its row takes every count from counts.
  bool set_counts = false;
  // The rate the gate allowed at the run's end (requests/s; 0: no limit).
  std::optional<double> gate_rate;
  // What the run's scans learnt about the paging, to keep (even when the
  // run failed later); nullopt: nothing new, keep what _rs_state holds.
  // Its page size and page_sizes_vary are stored.
  std::optional<paging_memory> paging;
  // A scan ended on a short page; an empty page confirmed one.
  bool ended_on_short_page = false;
  bool short_page_checked = false;
};

struct pass_check {
  // Records the scan met more than once, by key.
  std::int64_t repeated = 0;
  // Which keys those were (seen_keys::repeat_digest): scans of one run that
  // met the same keys twice have the same digest.
  std::uint64_t repeat_digest = 0;
  // Live rows of the table whose keys no scan of the run has seen so far:
  // what a deletion mark would mark now (0 unless count_unseen).
  std::int64_t unseen = 0;
};

struct finish_counts {
  // The run's lease was lost: it ended as `abandoned`, nothing of its
  // end (cursor, deletions, state) was written. From the connection
  // thread to store::finish_run, which throws for it.
  bool abandoned = false;
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

}  // namespace restsync::db

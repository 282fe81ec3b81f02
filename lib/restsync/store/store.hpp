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

#include "restsync/store/types.hpp"

namespace restsync {
class logger;
}

namespace restsync::db {

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
  // all in one transaction; on failure a staging table is dropped. A run
  // whose lease was lost only gets `abandoned` in its row, and this throws
  // store_error saying so.
  boost::asio::awaitable<finish_counts> finish_run(run_summary summary);

  boost::asio::awaitable<std::vector<resource_state>> states();

  // Dependent resources, on the connection of their own run (run_id):
  // the live rows of a parent, and the end of a run that read all of them,
  // which drops the state of parents no longer live and, with mark, marks
  // the rows of vanished parents deleted (returns how many).
  boost::asio::awaitable<parent_rows> read_parents(std::int64_t run_id, std::string resource,
                                                   std::vector<std::string> fields);
  // Several daemons on one database (store/leases.hpp). acquire_lease
  // grants the resource's lease when it is free and the resource is due;
  // renew_lease extends one still held (false: lost); release_lease ends it
  // and sets when the resource is due next; release_leases ends every lease
  // of an instance (a stop); heartbeat marks the instance alive and returns
  // how many are.
  boost::asio::awaitable<lease_answer> acquire_lease(std::string resource, std::string instance,
                                                     std::chrono::milliseconds lease);
  boost::asio::awaitable<bool> renew_lease(std::string resource, fence f,
                                           std::chrono::milliseconds lease);
  boost::asio::awaitable<void> release_lease(std::string resource, fence f,
                                             std::chrono::milliseconds next_due);
  boost::asio::awaitable<void> release_leases(std::string instance);
  // A reload changed the resource's schedule: due next_due from now.
  boost::asio::awaitable<void> reschedule(std::string resource, std::chrono::milliseconds next_due);
  boost::asio::awaitable<std::int64_t> heartbeat(std::string instance,
                                                 std::chrono::milliseconds lease);

  boost::asio::awaitable<std::int64_t> settle_orphans(std::int64_t run_id, orphan_rule rule,
                                                      std::vector<std::string> live, bool mark);

  const store_settings& settings() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace restsync::db

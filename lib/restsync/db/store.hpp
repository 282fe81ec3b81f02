// The PostgreSQL side of restsync: one thread that owns the connection and
// runs every statement, so the event loop never blocks on the database.
// Callers co_await results; consecutive page writes are committed together
// (group commit), each page whole or not at all, with the run and state rows
// that describe it in the same transaction.
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

#include "restsync/page.hpp"

namespace restsync::db {

struct store_settings {
  std::string connection;  // libpq connection string; empty: PG* environment
  std::string schema = "analytics";
  // How long to keep reconnecting when the database is unreachable before the
  // waiting writes fail.
  std::chrono::milliseconds reconnect_for{300'000};
  std::chrono::milliseconds reconnect_max_backoff{10'000};
  // Group commit: at most this many records in one transaction.
  std::size_t max_batch_records = 5000;
};

// A failure of the store; the message names the table and what PostgreSQL said.
class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct table_spec {
  std::string resource;
  std::vector<std::string> primary_key;  // record fields
};

struct write_counts {
  std::int64_t inserted = 0;
  std::int64_t updated = 0;
  std::int64_t unchanged = 0;
};

// One page to commit, and the counters of the run it belongs to.
struct page_write {
  std::string resource;
  std::int64_t run_id = 0;
  std::shared_ptr<const page> data;
  std::int64_t offset = 0;  // for messages
};

enum class run_status { running, succeeded, failed, interrupted };

struct run_summary {
  std::int64_t run_id = 0;
  std::string resource;
  run_status status = run_status::succeeded;
  std::int64_t requests = 0;
  std::int64_t retries = 0;
  std::int64_t rate_limited = 0;
  bool complete_scan = false;  // every record of the resource was read
  std::string error;           // empty on success
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
  store(boost::asio::any_io_executor ex, store_settings settings);
  ~store();  // finishes queued work, then closes the connection
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  // Connects and creates the schema and restsync's own tables if missing;
  // marks runs left 'running' by a previous process as interrupted.
  boost::asio::awaitable<void> open();

  // Creates the resource's table when missing and loads its column mapping.
  boost::asio::awaitable<void> prepare(table_spec spec);

  boost::asio::awaitable<std::int64_t> begin_run(std::string resource);

  // Upserts the page's records; adds the columns they need first. The
  // _rs_runs row of the run is updated in the same transaction.
  boost::asio::awaitable<write_counts> write(page_write w);

  boost::asio::awaitable<void> finish_run(run_summary summary);

  boost::asio::awaitable<std::vector<resource_state>> states();

  const store_settings& settings() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace restsync::db

// One sync run of a resource: page it through the shared rate gate, retry per
// its error handler, and hand every page that arrived whole to the store.
// `restsyncd sync` runs each selected resource once; the daemon's timers run
// the same engine over and over.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "restsync/config.hpp"
#include "restsync/db/store.hpp"
#include "restsync/log.hpp"

namespace restsync::sync {

struct resource_outcome {
  std::string resource;
  bool ok = false;
  std::string error;  // the first failure, with resource, path and status
  bool complete_scan = false;
  std::int64_t pages = 0;
  std::int64_t records = 0;
  std::int64_t inserted = 0;
  std::int64_t updated = 0;
  std::int64_t unchanged = 0;
  std::int64_t requests = 0;
  std::int64_t retries = 0;
  std::int64_t rate_limited = 0;
  // Records an incremental cursor or end_value left out.
  std::int64_t filtered = 0;
  // Rows marked deleted (or deleted, with hard_delete) by this run.
  std::int64_t deleted = 0;
  // Scans repeated because the data moved while the scan paged.
  std::int64_t rescans = 0;
  // Why deletions were not marked after a complete scan that could have.
  std::string deletions_skipped;
  std::string cursor;  // the incremental cursor after the run; empty: none
  double seconds = 0;
};

struct run_flags {
  // Read from the incremental initial_value (or everything) instead of the
  // stored cursor; the table is kept.
  bool full_refresh = false;
};

class engine {
 public:
  // cfg, store and log must outlive the engine.
  engine(boost::asio::any_io_executor ex, const config& cfg, db::store& store, logger& log);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // One run of one resource; never throws for API or database trouble.
  boost::asio::awaitable<resource_outcome> run(const resource_config& resource,
                                               run_flags flags = {});

  // Runs the resources concurrently; one's failure does not stop the others.
  boost::asio::awaitable<std::vector<resource_outcome>> run_all(
      std::vector<const resource_config*> resources, run_flags flags = {});

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace restsync::sync

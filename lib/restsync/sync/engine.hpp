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
#include <string_view>
#include <vector>

#include "restsync/config/config.hpp"
#include "restsync/observe/log.hpp"
#include "restsync/observe/progress_sink.hpp"
#include "restsync/observe/run_outcome.hpp"
#include "restsync/store/store.hpp"

namespace restsync::sync {

struct run_flags {
  // Read from the incremental initial_value (or everything) instead of the
  // stored cursor; the table is kept.
  bool full_refresh = false;
  // The resource's lease, when several daemons share the database
  // (store/leases.hpp): every page and the run's end verify it.
  std::optional<db::fence> lease;
};

class engine {
 public:
  // cfg, store and log must outlive the engine.
  engine(boost::asio::any_io_executor ex, const config& cfg, db::store& store, logger& log);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // One run of one resource; never throws for API or database trouble.
  boost::asio::awaitable<run_outcome> run(const resource_config& resource, run_flags flags = {});

  // Runs the resources concurrently; one's failure does not stop the others.
  boost::asio::awaitable<std::vector<run_outcome>> run_all(
      std::vector<const resource_config*> resources, run_flags flags = {});

  // Requests sent and not answered yet: of one resource (0 for one the
  // configuration does not have), and of all.
  std::int64_t in_flight(std::string_view resource) const;
  std::int64_t in_flight() const;
  // Requests per second the rate gate allows now (learned from 429s when
  // below client.rate_limit); 0: no limit.
  double allowed_rate() const;
  // This daemon's share of client.rate_limit (1/n when n daemons share the
  // API key); the adaptive limit still learns from 429s below it.
  void set_rate_share(double share);

  // Where runs report what they do as they go (`restsyncd sync` on a
  // terminal); none by default. The sink must outlive the runs.
  void set_progress(progress_sink* sink);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace restsync::sync

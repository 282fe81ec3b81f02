// The daemon's timers: every resource of the configuration in force runs on
// its own schedule, all through one sync engine (so one rate gate) and one
// store; a reload switches to a new configuration without a restart.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "restsync/config/config.hpp"
#include "restsync/observe/log.hpp"
#include "restsync/observe/run_ledger.hpp"
#include "restsync/store/store.hpp"

namespace restsync::service {

class scheduler {
 public:
  // store, log and ledger must outlive the scheduler.
  scheduler(boost::asio::any_io_executor ex, db::store& store, logger& log, run_ledger& ledger);
  ~scheduler();
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  // Starts the resources of cfg, or switches to it: added resources run at
  // once, removed ones stop after the run they are in, the others keep their
  // rhythm under their new settings. A new configuration gets a new engine;
  // its runs begin once no run of the previous one is still in progress, so
  // that a single rate gate governs every request at any moment.
  void apply(std::shared_ptr<const config> cfg);

  // Several daemons on one database: this one's name in _rs_leases, before
  // the first apply(). Every run then holds its resource's lease, the
  // schedule is the database's, and the API's rate is shared by the live
  // daemons. Empty (the default): no leases.
  void set_instance(std::string instance);
  const std::string& instance() const;
  // The share of client.rate_limit this daemon takes: 1, or 1/n of the
  // most daemons seen alive lately.
  double rate_share() const;

  // Starts no more runs; runs in progress are left alone.
  void stop();

  std::size_t runs_in_progress() const;

  // Requests of the resource awaiting their response, over every engine
  // that still runs (a reload's previous one finishes its runs).
  std::int64_t in_flight(std::string_view resource) const;
  // The newest configuration's engine's rate gate (engine::allowed_rate);
  // absent before the first configuration is applied.
  std::optional<double> allowed_rate() const;

  // Called on the event loop after every finished run.
  void on_run_finished(std::function<void(const std::string& resource, const run_outcome&)> f);

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace restsync::service

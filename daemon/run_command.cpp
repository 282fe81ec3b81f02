#include "run_command.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstdio>
#include <memory>
#include <set>
#include <utility>

#include "config_warnings.hpp"
#include "notifier.hpp"
#include "restsync/config/duration.hpp"
#include "restsync/config/load.hpp"
#include "restsync/observe/metrics_server.hpp"
#include "restsync/observe/metrics_text.hpp"
#include "restsync/observe/process_stats.hpp"
#include "restsync/observe/run_ledger.hpp"
#include "restsync/service/scheduler.hpp"
#include "restsync/store/pg_time.hpp"
#include "restsync/store/store.hpp"
#include "restsync/version.hpp"
#include "stop_deadline.hpp"
#include "store_settings.hpp"

namespace restsyncd {

namespace asio = boost::asio;
using namespace restsync;
using steady = std::chrono::steady_clock;

namespace {

std::string_view signal_name(int sig) {
  switch (sig) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGHUP:
      return "SIGHUP";
  }
  return "signal";
}

// What a reload cannot change: the store's connection is made once.
std::optional<std::string> unchangeable(const config& before, const config& after) {
  if (before.destination.connection != after.destination.connection)
    return "destination.connection";
  if (before.destination.schema != after.destination.schema) return "destination.schema";
  if (before.destination.connections != after.destination.connections)
    return "destination.connections";
  return std::nullopt;
}

// How a stop went, for what run_daemon does after the event loop is gone.
struct stop_report {
  bool requested = false;
  bool runs_cut = false;  // runs were in progress: their rows say 'running'
  int exit_status = 0;
};

// This daemon's name among those sharing the database: daemon.instance,
// else host:pid (unique among the live ones).
std::string instance_name(const config& cfg) {
  if (!cfg.daemon.instance.empty()) return cfg.daemon.instance;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  return fmt::format("{}:{}", host, static_cast<long>(getpid()));
}

class daemon_process {
 public:
  daemon_process(asio::io_context& ioc, const run_options& opts, config cfg, logger& log,
                 std::optional<stop_deadline>& deadline, stop_report& report)
      : ioc_(ioc),
        opts_(opts),
        log_(log),
        deadline_(deadline),
        report_(report),
        cfg_(std::make_shared<const config>(std::move(cfg))),
        ledger_(wall_clock::now()),
        store_(ioc.get_executor(), store_settings_for(*cfg_), &log_),
        scheduler_(ioc.get_executor(), store_, log_, ledger_),
        signals_(ioc, SIGTERM, SIGINT, SIGHUP),
        watchdog_timer_(ioc),
        stale_timer_(ioc),
        retry_timer_(ioc) {
    secrets_.add_all(cfg_->secrets);
    log_.set_secrets(secrets_);
    scheduler_.set_instance(instance_name(*cfg_));
    scheduler_.on_run_finished(
        [this](const std::string& name, const run_outcome& r) { after_run(name, r); });
  }

  // Everything that does not need the database; false when the daemon
  // cannot run at all.
  bool start() {
    wait_for_signal();
    if (auto timeout = notifier::watchdog_timeout()) {
      // Half the timeout, as sd_watchdog_enabled(3) advises, so that one late
      // tick does not get the service killed.
      watchdog_period_ = std::chrono::duration_cast<steady::duration>(*timeout / 2);
      log_.info(
          "watchdog",
          {{"period_ms",
            std::chrono::duration_cast<std::chrono::milliseconds>(watchdog_period_).count()}});
      pet_watchdog();
    }
    if (!start_metrics(*cfg_)) {
      report_.exit_status = 1;
      return false;
    }
    log_.info("starting", {{"version", version()},
                           {"instance", scheduler_.instance()},
                           {"config", opts_.config_file},
                           {"resources", cfg_->resources.size()},
                           {"schema", cfg_->destination.schema}});
    warn_about_configuration(log_, *cfg_);
    notify_.status("connecting to PostgreSQL");
    asio::co_spawn(ioc_, start_up(), [this](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log_.error("internal_error", {{"error", ex.what()}, {"detail", "start-up failed"}});
      }
      report_.exit_status = 1;
      ioc_.stop();
    });
    return true;
  }

  std::size_t runs_in_progress() const { return scheduler_.runs_in_progress(); }
  const std::string& instance() const { return scheduler_.instance(); }

 private:
  asio::awaitable<void> start_up() {
    for (;;) {
      try {
        co_await store_.open();
        break;
      } catch (const std::exception& e) {
        log_.error("database_unavailable",
                   {{"schema", cfg_->destination.schema}, {"error", e.what()}});
        std::string status = std::string("waiting for PostgreSQL: ") + e.what();
        notify_.status(status);
      }
      // The store retried for reconnect_for already; this pause only keeps a
      // refusal that is not about the connection (a permission, say) from
      // spinning.
      retry_timer_.expires_after(store_.settings().reconnect_max_backoff);
      boost::system::error_code ec;
      co_await retry_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping_) co_return;
    }
    if (stopping_) co_return;
    ledger_.configure(*cfg_);
    try {
      auto states = co_await store_.states();
      for (const auto& s : states) {
        if (!s.last_success_at) continue;
        if (auto t = parse_pg_timestamptz(*s.last_success_at))
          ledger_.remember_success(s.resource, *t);
      }
    } catch (const std::exception& e) {
      // Only the staleness warnings miss it; the runs recreate the state.
      log_.warn("state_unreadable", {{"error", e.what()}});
    }
    if (stopping_) co_return;
    scheduler_.apply(cfg_);
    started_ = true;
    log_.info("ready", {{"resources", cfg_->resources.size()}});
    notify_.ready(ledger_.status_line(wall_clock::now()));
    check_stale();
  }

  void wait_for_signal() {
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        try {
          reload();
        } catch (const std::exception& e) {
          // Logged, and the daemon goes on: a reload must never stop it.
          log_.error("internal_error", {{"error", e.what()}, {"detail", "reload failed"}});
          refuse_reload("the reload failed; still running the previous configuration");
        }
        wait_for_signal();
      } else {
        begin_stop(sig);
      }
    });
  }

  void begin_stop(int sig) {
    if (stopping_) return;
    stopping_ = true;
    report_.requested = true;
    report_.runs_cut = scheduler_.runs_in_progress() > 0;
    log_.info("stopping", {{"signal", signal_name(sig)},
                           {"runs_in_progress", scheduler_.runs_in_progress()},
                           {"shutdown_timeout", format_duration(cfg_->daemon.shutdown_timeout)}});
    notify_.stopping("stopping");
    deadline_.emplace(cfg_->daemon.shutdown_timeout, log_);
    scheduler_.stop();
    // No handler runs after this: no request goes out, and a response still
    // on the wire is dropped. Pages already handed to the store commit whole
    // when the store is destroyed.
    ioc_.stop();
  }

  void reload() {
    notify_.reloading();
    log_.info("reloading", {{"config", opts_.config_file}});
    config next;
    try {
      next = load_config(opts_.config_file);
    } catch (const config_error& e) {
      for (const auto& m : e.messages()) log_.error("reload_refused", {{"problem", m}});
      refuse_reload("the configuration has errors; still running the previous one");
      return;
    } catch (const std::exception& e) {
      // Whatever the file holds (std::bad_alloc, say), a reload must not
      // take down a daemon that runs well on the configuration it has.
      log_.error("reload_refused", {{"problem", opts_.config_file + ": " + e.what()}});
      refuse_reload("the configuration could not be read; still running the previous one");
      return;
    }
    if (auto key = unchangeable(*cfg_, next)) {
      log_.error("reload_refused",
                 {{"problem", *key + " cannot change while restsyncd runs; restart it to apply"}});
      refuse_reload(*key + " changed; still running the previous configuration");
      return;
    }
    if (!same_listen(cfg_->metrics.listen, next.metrics.listen)) {
      metrics_.reset();
      if (!start_metrics(next)) {
        refuse_reload(
            "the metrics endpoint cannot listen there; still running the previous "
            "configuration");
        start_metrics(*cfg_);
        return;
      }
    }
    secrets_.add_all(next.secrets);
    log_.set_secrets(secrets_);
    auto applied = std::make_shared<const config>(std::move(next));
    if (started_) {
      try {
        scheduler_.apply(applied);
      } catch (const std::exception& e) {
        log_.error("reload_refused", {{"problem", e.what()}});
        refuse_reload("the configuration could not be applied; still running the previous one");
        return;
      }
    }
    if (!opts_.cli_level) log_.set_level(applied->log.level);
    auto replaced = std::exchange(cfg_, std::move(applied));
    ledger_.reloaded(true);
    log_.info("reloaded", {{"resources", cfg_->resources.size()},
                           {"runs_in_progress", scheduler_.runs_in_progress()}});
    warn_about_configuration(log_, *cfg_, replaced.get());
    notify_.ready(ledger_.status_line(wall_clock::now()));
    check_stale();
  }

  void refuse_reload(const std::string& why) {
    ledger_.reloaded(false);
    if (started_)
      notify_.ready(why + "; " + ledger_.status_line(wall_clock::now()));
    else
      notify_.status(why);
  }

  static bool same_listen(const std::optional<listen_address>& a,
                          const std::optional<listen_address>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || (a->host == b->host && a->port == b->port);
  }

  bool start_metrics(const config& cfg) {
    if (!cfg.metrics.listen) return true;
    try {
      metrics_ = std::make_unique<service::metrics_server>(
          ioc_.get_executor(), *cfg.metrics.listen, [this] {
            return render_metrics(ledger_, live_stats_now(), service::read_process_stats(),
                                  wall_clock::now());
          });
      log_.info("metrics_listening", {{"address", to_string(metrics_->local_address())}});
      return true;
    } catch (const std::exception& e) {
      log_.error("metrics_unavailable",
                 {{"address", to_string(*cfg.metrics.listen)}, {"error", e.what()}});
      return false;
    }
  }

  live_stats live_stats_now() const {
    live_stats live;
    for (const auto& r : ledger_.resources()) live.in_flight[r.name] = scheduler_.in_flight(r.name);
    live.gate_allowed_rate = scheduler_.allowed_rate();
    // This daemon's part of the key's rate, which its gate never exceeds.
    live.gate_configured_rate =
        cfg_->client.rate_limit.requests_per_second * scheduler_.rate_share();
    live.instance = scheduler_.instance();
    return live;
  }

  void after_run(const std::string& name, const run_outcome& r) {
    if (r.ok && reported_stale_.erase(name))
      log_.info("fresh", {{"resource", name}, {"detail", "succeeded again after being stale"}});
    notify_.status(ledger_.status_line(wall_clock::now()));
    check_stale();
  }

  void check_stale() {
    const auto now = wall_clock::now();
    for (const auto& s : ledger_.take_newly_stale(now)) {
      reported_stale_.insert(s.name);
      const auto* rec = ledger_.find(s.name);
      log_.warn(
          "stale",
          {{"resource", s.name},
           {"age", format_duration(std::chrono::duration_cast<std::chrono::seconds>(s.age))},
           {"max_age", format_duration(s.max_age)},
           {"last_success",
            rec && rec->last_success ? format_utc(*rec->last_success) : std::string("never")},
           {"last_error", rec && rec->last && !rec->last->ok ? rec->last->error : std::string()}});
    }
    if (stopping_) return;
    auto next = ledger_.next_stale_at();
    if (!next) {
      stale_timer_.cancel();
      return;
    }
    stale_timer_.expires_after(std::max(steady::duration::zero(),
                                        std::chrono::duration_cast<steady::duration>(*next - now)));
    stale_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) check_stale();
    });
  }

  void pet_watchdog() {
    notify_.watchdog();
    watchdog_timer_.expires_after(watchdog_period_);
    watchdog_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) pet_watchdog();
    });
  }

  asio::io_context& ioc_;
  const run_options& opts_;
  logger& log_;
  std::optional<stop_deadline>& deadline_;
  stop_report& report_;
  std::shared_ptr<const config> cfg_;
  secret_set secrets_;
  notifier notify_;
  run_ledger ledger_;
  // Declared after everything the runs use and before the timers: destroyed
  // after the scheduler, it commits the pages already handed to it.
  db::store store_;
  service::scheduler scheduler_;
  std::unique_ptr<service::metrics_server> metrics_;
  asio::signal_set signals_;
  asio::steady_timer watchdog_timer_;
  asio::steady_timer stale_timer_;
  asio::steady_timer retry_timer_;
  steady::duration watchdog_period_{};
  std::set<std::string> reported_stale_;  // to say when each is fresh again
  bool started_ = false;
  bool stopping_ = false;
};

// A stop hands this daemon's leases back at once, so that another daemon
// on the database takes its resources over without waiting for them to
// expire; then the runs it cut short (left 'running') are marked
// 'interrupted', as the next start would, so that `restsyncd status` tells
// the truth meanwhile.
asio::awaitable<void> hand_back(db::store& store, std::string instance) {
  co_await store.release_leases(std::move(instance));
  co_await store.open();
}

void hand_back(const config& cfg, const std::string& instance, std::chrono::milliseconds budget,
               logger& log) {
  asio::io_context ioc(1);
  auto settings = store_settings_for(cfg);
  settings.reconnect_for = budget;
  db::store store(ioc.get_executor(), settings, &log);
  asio::co_spawn(ioc, hand_back(store, instance), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log.warn("runs_left_running", {{"error", ex.what()}});
    }
  });
  ioc.run();
}

}  // namespace

int run_daemon(const run_options& opts, config cfg, logger& log) {
  if (!opts.cli_level) log.set_level(cfg.log.level);
  const config initial = cfg;
  std::optional<stop_deadline> deadline;
  stop_report report;
  std::string instance;
  {
    asio::io_context ioc(1);
    {
      daemon_process d(ioc, opts, std::move(cfg), log, deadline, report);
      instance = d.instance();
      if (d.start()) ioc.run();
      // Leaving this scope destroys the scheduler, then the store, which
      // commits what it was handed; the event loop no longer runs.
    }
  }
  if (!report.requested) return report.exit_status ? report.exit_status : 1;
  // Handing the leases back only saves the others the wait for them to
  // expire: a database that does not answer is not waited for long, unless
  // runs were cut short and their rows must say so.
  if (deadline)
    hand_back(initial, instance,
              report.runs_cut ? deadline->remaining()
                              : std::min(deadline->remaining(), std::chrono::milliseconds(2000)),
              log);
  log.info("stopped", {{"runs_cut_short", report.runs_cut}});
  if (deadline) deadline->finish();
  return 0;
}

}  // namespace restsyncd

#include "restsync/service/scheduler.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <map>
#include <random>
#include <vector>

#include "restsync/config/duration.hpp"
#include "restsync/service/schedule.hpp"
#include "restsync/sync/engine.hpp"

namespace restsync::service {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

// Several daemons (store/leases.hpp): each marks itself alive this often,
// and takes the share of the API's rate that the most daemons seen alive
// over the last few leases leave it, so that one that stalled and comes
// back finds its part unspent.
constexpr int share_memory_leases = 5;
std::chrono::milliseconds heartbeat_period(std::chrono::milliseconds lease) {
  return std::min(lease / 3, std::chrono::milliseconds(1000));
}

// One configuration and the engine built for it.
struct generation {
  std::shared_ptr<const config> cfg;
  std::unique_ptr<sync::engine> engine;
};

struct slot {
  std::string name;
  asio::steady_timer timer;
  steady::time_point due;
  std::optional<steady::time_point> last_start, last_finish;
  int failures = 0;
  bool running = false;
  bool removed = false;
  // Asked for its lease at least once (granted or not): a dependent
  // resource stops waiting for this parent's first run in this process.
  bool tried = false;

  slot(asio::any_io_executor ex, std::string n) : name(std::move(n)), timer(ex) {}
};

// How long until t, for a log line: whole seconds from a second up, so that a
// wait reads as the schedule wrote it (`2s`, not `1s993ms`).
std::chrono::milliseconds until(steady::time_point t) {
  using namespace std::chrono;
  auto d = std::max(milliseconds(0), duration_cast<milliseconds>(t - steady::now()));
  return d >= seconds(1) ? duration_cast<milliseconds>(round<seconds>(d)) : d;
}

}  // namespace

struct scheduler::impl {
  asio::any_io_executor ex;
  db::store& store;
  logger& log;
  run_ledger& ledger;
  std::shared_ptr<generation> current;
  // The current generation and those whose runs still hold them.
  std::vector<std::weak_ptr<generation>> generations;
  std::map<std::string, std::shared_ptr<slot>> slots;
  // Runs in progress on an engine that is no longer the current one; new
  // runs wait until there are none.
  std::size_t old_runs = 0;
  std::size_t running = 0;
  bool stopping = false;
  std::mt19937_64 rng{std::random_device{}()};
  std::function<void(const std::string&, const run_outcome&)> finished_hook;
  // Several daemons on one database (store/leases.hpp): this one's name,
  // and how many share the API's rate (this one takes 1/n of it).
  std::string instance;
  std::int64_t sharing = 1;
  double rate_share() const { return 1.0 / static_cast<double>(sharing); }
  bool joined = false;  // the second heartbeat is done: runs may start
  // The live counts of the last heartbeats: the share follows the largest,
  // so that a daemon that stalled (or a heartbeat late under load) and
  // comes back finds the others not yet spending its part.
  std::deque<std::pair<steady::time_point, std::int64_t>> recent_live;
  bool heartbeat_started = false;

  // Running its part of the resources already: ceil(resources / daemons).
  bool over_fair_share() const {
    if (!current || sharing <= 1) return false;
    const auto daemons = static_cast<std::size_t>(sharing);
    const auto part = (current->cfg->resources.size() + daemons - 1) / daemons;
    return running >= std::max<std::size_t>(1, part);
  }

  std::chrono::milliseconds lease() const {
    return current ? current->cfg->daemon.lease : std::chrono::milliseconds(60'000);
  }

  impl(asio::any_io_executor e, db::store& s, logger& l, run_ledger& lg)
      : ex(std::move(e)), store(s), log(l), ledger(lg) {}

  // Only a defect gets here; the resource is no longer scheduled, and says so.
  void log_defect(const std::string& name, std::exception_ptr e) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    log.error("internal_error",
              {{"resource", name}, {"error", what}, {"detail", "no longer scheduled"}});
  }

  double random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

  // A dependent resource does not run while its parent runs, nor before
  // the parent's first run in this process has ended: it reads the
  // parent's rows, which that run is writing.
  bool waits_for_parent(const slot& s) const {
    const resource_config* rc = current_resource(s.name);
    if (!rc || !rc->parent) return false;
    auto it = slots.find(rc->parent->resource);
    if (it == slots.end() || it->second->removed) return false;
    return it->second->running || (!it->second->last_finish && !it->second->tried);
  }

  void wake_all() {
    for (auto& [name, s] : slots) s->timer.cancel();
  }

  const resource_config* current_resource(const std::string& name) const {
    return current ? find_resource(*current->cfg, name) : nullptr;
  }

  void apply(const std::shared_ptr<impl>& self, std::shared_ptr<const config> cfg) {
    // Held to the end: the old configuration is compared with the new one.
    const auto previous = current;
    auto next = std::make_shared<generation>();
    next->cfg = std::move(cfg);
    next->engine = std::make_unique<sync::engine>(ex, *next->cfg, store, log);
    next->engine->set_rate_share(rate_share());
    const config* old_cfg = previous ? previous->cfg.get() : nullptr;
    if (current) old_runs = running;
    current = next;
    std::erase_if(generations, [](const auto& g) { return g.expired(); });
    generations.push_back(next);
    ledger.configure(*current->cfg);
    if (!heartbeat_started && !instance.empty()) {
      heartbeat_started = true;
      asio::co_spawn(ex, heartbeat(self), [self](std::exception_ptr e) {
        if (e) self->log_defect("heartbeat", e);
      });
    }

    for (auto& [name, s] : slots) {
      if (!find_resource(*current->cfg, name) && !s->removed) {
        s->removed = true;
        log.info("resource_removed", {{"resource", name}, {"running", s->running}});
      }
    }
    for (const auto& rc : current->cfg->resources) {
      auto it = slots.find(rc.name);
      if (it == slots.end()) {
        auto s = std::make_shared<slot>(ex, rc.name);
        s->due = steady::now();
        slots.emplace(rc.name, s);
        if (old_cfg) log.info("resource_added", {{"resource", rc.name}});
        asio::co_spawn(ex, loop(self, s), [self, name = rc.name](std::exception_ptr e) {
          if (e) self->log_defect(name, e);
        });
        continue;
      }
      auto& s = *it->second;
      s.removed = false;
      const resource_config* before = old_cfg ? find_resource(*old_cfg, rc.name) : nullptr;
      if (before && before->schedule != rc.schedule && s.last_start && !s.running) {
        s.due = next_run_at(rc.schedule, *s.last_start, s.last_finish.value_or(*s.last_start),
                            s.failures, random01());
        if (!instance.empty()) {
          const auto in = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::max(s.due, steady::now()) - steady::now());
          asio::co_spawn(
              ex, store.reschedule(rc.name, in), [self, name = rc.name](std::exception_ptr e) {
                if (!e) return;
                try {
                  std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                  self->log.warn("reschedule_failed", {{"resource", name}, {"error", ex.what()}});
                }
              });
        }
        log.info("rescheduled", {{"resource", rc.name},
                                 {"interval", format_duration(rc.schedule.interval)},
                                 {"next_in", format_duration(until(s.due))}});
      }
    }
    wake_all();
  }

  // One resource's life: wait for its turn, run, compute the next turn.
  static asio::awaitable<void> loop(std::shared_ptr<impl> self, std::shared_ptr<slot> s) {
    // co_spawn runs a coroutine inline up to its first wait; this one starts
    // after apply() has finished instead.
    co_await asio::post(self->ex, asio::use_awaitable);
    for (;;) {
      for (;;) {
        if (self->stopping || s->removed) break;
        // With leases, nothing runs before the first heartbeat has told this
        // daemon its share of the API's rate.
        const bool blocked = self->old_runs > 0 || self->waits_for_parent(*s) ||
                             (!self->instance.empty() && !self->joined);
        if (!blocked && steady::now() >= s->due) break;
        s->timer.expires_at(blocked ? steady::time_point::max() : s->due);
        boost::system::error_code ec;
        co_await s->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      if (self->stopping || s->removed) break;
      // The slot by reference: no temporaries in a co_await expression (GCC 12).
      co_await self->run_once(*s);
    }
    if (auto it = self->slots.find(s->name); it != self->slots.end() && it->second == s)
      self->slots.erase(it);
  }

  // The caller's frame keeps this and the slot alive.
  asio::awaitable<void> run_once(slot& slot_ref) {
    impl* self = this;
    slot* s = &slot_ref;
    auto gen = self->current;
    const resource_config* rc = find_resource(*gen->cfg, s->name);
    if (!rc) co_return;
    sync::run_flags flags;
    const auto lease_time = gen->cfg->daemon.lease;
    if (!self->instance.empty()) {
      if (self->over_fair_share()) {
        // Runs wait at this daemon's gate, which has only its share of the
        // rate: holding more than its part of the resources would leave the
        // other daemons idle while these wait.
        s->due = steady::now() + heartbeat_period(lease_time);
        co_return;
      }
      // The schedule is the database's: the run happens here only with the
      // resource's lease, which is free only when no daemon runs it and
      // it is due (_rs_leases.next_due_at).
      db::lease_answer answer;
      try {
        answer = co_await self->store.acquire_lease(s->name, self->instance, lease_time);
      } catch (const std::exception& e) {
        self->log.warn("lease_unavailable", {{"resource", s->name}, {"error", e.what()}});
        answer.wait_seconds = 5;
      }
      s->tried = true;
      if (!answer.token) {
        const auto wait = std::chrono::milliseconds(
            std::max<std::int64_t>(50, static_cast<std::int64_t>(answer.wait_seconds * 1000)));
        s->due = steady::now() + wait;
        self->log.debug("lease_held", {{"resource", s->name},
                                       {"holder", answer.holder},
                                       {"retry_in", format_duration(wait)}});
        self->wake_all();
        co_return;
      }
      flags.lease = db::fence{self->instance, *answer.token};
    }
    s->running = true;
    ++self->running;
    s->last_start = steady::now();
    self->ledger.started(s->name);
    run_outcome outcome;
    std::shared_ptr<bool> run_over = std::make_shared<bool>(false);
    auto renewal = std::make_shared<asio::steady_timer>(self->ex);
    if (flags.lease)
      asio::co_spawn(self->ex, renew(self, s->name, *flags.lease, lease_time, run_over, renewal),
                     asio::detached);
    try {
      outcome = co_await gen->engine->run(*rc, flags);
    } catch (const std::exception& e) {
      // The engine reports API and database trouble as values; anything
      // thrown is a defect, and still must not end the daemon.
      outcome.ok = false;
      outcome.error = gen->cfg->secrets.mask(s->name + ": internal error: " + e.what());
      self->log.error("internal_error", {{"resource", s->name}, {"error", e.what()}});
    }
    *run_over = true;
    renewal->cancel();
    s->running = false;
    --self->running;
    s->last_finish = steady::now();
    if (gen != self->current) --self->old_runs;
    // Runs of a new configuration, and this resource's dependent
    // resources, may have waited for this run.
    self->wake_all();
    s->failures = outcome.ok ? 0 : s->failures + 1;
    self->ledger.finished(s->name, outcome, wall_clock::now());
    if (const auto* now_rc = self->current_resource(s->name)) {
      s->due = next_run_at(now_rc->schedule, *s->last_start, *s->last_finish, s->failures,
                           self->random01());
      if (outcome.ok)
        self->log.debug("next_run",
                        {{"resource", s->name}, {"in", format_duration(until(s->due))}});
      else
        self->log.warn(
            "next_run",
            {{"resource", s->name},
             {"in", format_duration(until(s->due))},
             {"consecutive_failures", s->failures},
             {"backoff", format_duration(failure_delay(now_rc->schedule, s->failures))}});
    }
    if (flags.lease) {
      // Released with the next turn, for whichever daemon takes it.
      const auto next_due =
          std::chrono::duration_cast<std::chrono::milliseconds>(s->due - steady::now());
      try {
        co_await self->store.release_lease(s->name, *flags.lease,
                                           std::max(std::chrono::milliseconds(0), next_due));
      } catch (const std::exception& e) {
        self->log.warn("lease_release_failed", {{"resource", s->name}, {"error", e.what()}});
      }
    }
    if (self->finished_hook) self->finished_hook(s->name, outcome);
  }

  // Keeps a run's lease while the run goes: renewed every third of its
  // time. A renewal that fails means another daemon may run the resource
  // now; the run's next page (or its end) finds out and stops writing.
  // self: alive while the run is; the timer is cancelled when it ends.
  static asio::awaitable<void> renew(impl* self, std::string name, db::fence f,
                                     std::chrono::milliseconds lease, std::shared_ptr<bool> over,
                                     std::shared_ptr<asio::steady_timer> timer) {
    while (!*over) {
      timer->expires_after(lease / 3);
      boost::system::error_code ec;
      co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (*over) break;
      bool held = false;
      try {
        held = co_await self->store.renew_lease(name, f, lease);
      } catch (const std::exception& e) {
        self->log.warn("lease_renewal_failed", {{"resource", name}, {"error", e.what()}});
        continue;
      }
      if (!held) {
        self->log.warn("lease_lost", {{"resource", name},
                                      {"instance", f.instance},
                                      {"token", f.token},
                                      {"detail", "the run stops writing at its next page"}});
        break;
      }
    }
  }

  // This daemon is alive; the API's rate is shared by the live ones. A
  // daemon that joins others waits one heartbeat before its first run, so
  // that they have seen it and lowered their share by then.
  static asio::awaitable<void> heartbeat(std::shared_ptr<impl> self) {
    asio::steady_timer timer(self->ex);
    int beats = 0;
    while (!self->stopping) {
      try {
        const auto live = co_await self->store.heartbeat(self->instance, self->lease());
        const auto now = steady::now();
        self->recent_live.emplace_back(now, live);
        while (now - self->recent_live.front().first > self->lease() * share_memory_leases)
          self->recent_live.pop_front();
        std::int64_t most = 1;
        for (const auto& [at, n] : self->recent_live) most = std::max(most, n);
        if (most != self->sharing) {
          self->sharing = most;
          const double share = self->rate_share();
          for (const auto& g : self->generations)
            if (auto e = g.lock()) e->engine->set_rate_share(share);
          self->log.info("instances",
                         {{"instance", self->instance}, {"live", live}, {"rate_share", share}});
        }
        // Alone: nobody to wait for. Else the next heartbeat, when every
        // other daemon has counted this one.
        if (++beats == 2 || (beats == 1 && live == 1)) {
          self->joined = true;
          self->wake_all();
        }
      } catch (const std::exception& e) {
        self->log.warn("heartbeat_failed", {{"error", e.what()}});
      }
      timer.expires_after(heartbeat_period(self->lease()));
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
};

scheduler::scheduler(asio::any_io_executor ex, db::store& store, logger& log, run_ledger& ledger)
    : impl_(std::make_shared<impl>(std::move(ex), store, log, ledger)) {}

scheduler::~scheduler() {
  impl_->stopping = true;
  impl_->finished_hook = nullptr;
  impl_->wake_all();
}

void scheduler::apply(std::shared_ptr<const config> cfg) { impl_->apply(impl_, std::move(cfg)); }

void scheduler::set_instance(std::string instance) { impl_->instance = std::move(instance); }

const std::string& scheduler::instance() const { return impl_->instance; }

double scheduler::rate_share() const { return impl_->rate_share(); }

void scheduler::stop() {
  impl_->stopping = true;
  impl_->wake_all();
}

std::size_t scheduler::runs_in_progress() const { return impl_->running; }

std::int64_t scheduler::in_flight(std::string_view resource) const {
  std::int64_t n = 0;
  for (const auto& g : impl_->generations)
    if (auto live = g.lock()) n += live->engine->in_flight(resource);
  return n;
}

std::optional<double> scheduler::allowed_rate() const {
  for (auto g = impl_->generations.rbegin(); g != impl_->generations.rend(); ++g)
    if (auto live = g->lock()) return live->engine->allowed_rate();
  return std::nullopt;
}

void scheduler::on_run_finished(
    std::function<void(const std::string& resource, const run_outcome&)> f) {
  impl_->finished_hook = std::move(f);
}

}  // namespace restsync::service

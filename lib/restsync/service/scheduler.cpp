#include "restsync/service/scheduler.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
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
    return it->second->running || !it->second->last_finish;
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
    const config* old_cfg = previous ? previous->cfg.get() : nullptr;
    if (current) old_runs = running;
    current = next;
    std::erase_if(generations, [](const auto& g) { return g.expired(); });
    generations.push_back(next);
    ledger.configure(*current->cfg);

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
        const bool blocked = self->old_runs > 0 || self->waits_for_parent(*s);
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
    s->running = true;
    ++self->running;
    s->last_start = steady::now();
    self->ledger.started(s->name);
    run_outcome outcome;
    try {
      outcome = co_await gen->engine->run(*rc);
    } catch (const std::exception& e) {
      // The engine reports API and database trouble as values; anything
      // thrown is a defect, and still must not end the daemon.
      outcome.ok = false;
      outcome.error = gen->cfg->secrets.mask(s->name + ": internal error: " + e.what());
      self->log.error("internal_error", {{"resource", s->name}, {"error", e.what()}});
    }
    s->running = false;
    --self->running;
    s->last_finish = steady::now();
    if (gen != self->current && --self->old_runs == 0) self->wake_all();
    // Its dependent resources may have waited for this run.
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
    if (self->finished_hook) self->finished_hook(s->name, outcome);
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

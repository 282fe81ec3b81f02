#include "restsync/store/store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <type_traits>

#include "restsync/observe/log.hpp"
#include "restsync/overloaded.hpp"
#include "restsync/store/catalog.hpp"
#include "restsync/store/commands.hpp"
#include "restsync/store/connection.hpp"
#include "restsync/store/deletion_evidence.hpp"
#include "restsync/store/dependents.hpp"
#include "restsync/store/leases.hpp"
#include "restsync/store/run_journal.hpp"
#include "restsync/store/upsert_writer.hpp"

namespace restsync::db {

namespace asio = boost::asio;

// What the commands do, on one connection thread: a store has one or more
// (store_settings::connections); each run is served by one of them.
struct worker final : command_handler {
  asio::any_io_executor ex;
  store_settings settings;
  logger* log;
  run_journal journal;
  lease_table leases;
  catalog tables;
  // The run counters the transaction in progress adds to, by run id.
  std::map<std::int64_t, run_counters> run_deltas;
  deletion_evidence evidence;
  // The parent value of each dependent resource's run in progress (run_scope).
  std::map<std::int64_t, std::string> parent_values;
  std::optional<std::int64_t> finishing;  // the run the transaction ends
  // The lease of each run that holds one (restsyncd run), by run id.
  std::map<std::int64_t, fence> fences;
  upsert_writer writer;
  // Last: its thread stops before the parts it uses go.
  connection_thread conn;

  worker(asio::any_io_executor e, store_settings s, logger* l)
      : ex(std::move(e)),
        settings(std::move(s)),
        log(l),
        journal(settings.schema),
        leases(settings.schema),
        tables(settings.schema),
        writer(conn, tables, run_deltas),
        conn(settings, l, *this) {}

  // Not a coroutine: the command is queued when the awaitable is first
  // resumed, and the caller resumes on its own executor with its result.
  template <class R>
  asio::awaitable<R> submit(command c) {
    return asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr, R)>(
        [this](auto handler, command c) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          auto tracked = asio::prefer(ex, asio::execution::outstanding_work.tracked);
          conn.enqueue(std::move(c), [h, tracked](std::exception_ptr e, command_result r) {
            R out{};
            if (!e) out = std::get<R>(std::move(r));
            asio::post(tracked,
                       [h, e, out = std::move(out)]() mutable { (*h)(e, std::move(out)); });
          });
        },
        asio::use_awaitable, std::move(c));
  }

  void begin_transaction() override {
    finishing.reset();
    tables.begin_transaction();
    evidence.begin_transaction();
    writer.clear();
    run_deltas.clear();
  }

  command_result run(pqxx::work& tx, command& c) override {
    return std::visit(
        overloaded{
            [&](open_command&) -> command_result {
              journal.create_tables(tx);
              leases.create_tables(tx);
              journal.mark_interrupted(tx);
              return {};
            },
            [&](begin_run_command& b) -> command_result { return begin_run(tx, b); },
            [&](write_command& w) -> command_result {
              write_page(tx, w);
              return {};
            },
            [&](end_pass_command& e) -> command_result {
              return evidence.end_pass(tx, e.run_id, e.count_unseen, tables);
            },
            [&](finish_run_command& f) -> command_result { return finish_run(tx, f.summary); },
            [&](states_command&) -> command_result { return journal.states(tx); },
            [&](parent_rows_command& p) -> command_result {
              return read_parent_rows(tx, settings.schema, p.resource, p.fields);
            },
            [&](lease_command& l) -> command_result { return lease(tx, l); },
            [&](orphans_command& o) -> command_result {
              journal.drop_parent_states(tx, o.rule.resource, o.live);
              return o.mark ? mark_orphans(tx, settings.schema, o.rule) : std::int64_t{0};
            },
        },
        c);
  }

  void before_commit(pqxx::work& tx) override {
    // The page writes' statements (a transaction with any other command
    // holds that command alone: only page writes are batched).
    writer.flush(tx);
    // One counter update per run, not per page; still in the pages'
    // transaction, so a page's rows and its counts commit together.
    for (const auto& [run_id, d] : run_deltas)
      run_journal::add_counts(tx, conn.statement("rs_run_counts", journal.add_counts_sql()), run_id,
                              d);
  }

  void committed() override {
    if (finishing) {
      parent_values.erase(*finishing);
      fences.erase(*finishing);
    }
    finishing.reset();
    tables.committed();
    run_deltas.clear();
    evidence.committed();
  }

  void rolled_back() override {
    finishing.reset();
    tables.rolled_back();
    writer.clear();
    evidence.rolled_back();
    run_deltas.clear();
  }

  run_start begin_run(pqxx::work& tx, const begin_run_command& b) {
    if (b.load) {
      tables.load(tx, *b.load);
      auto& st = tables.for_change(b.resource);
      for (const auto& c : st.converted) {
        if (log) log->info("column_changed", {{"resource", b.resource}, {"change", c}});
      }
      st.converted.clear();
    }
    const auto& scope = b.options.scope;
    const auto& lease = b.options.lease;
    if (lease) check_lease(tx, b.resource, *lease);
    auto out = journal.start_run(tx, b.resource, scope ? scope->parent_value : std::string(),
                                 lease ? lease->instance : std::string());
    // Kept past a rollback too: the run's id is then never used again.
    if (lease) fences[out.run_id] = *lease;
    tables.start_run(tx, b.resource);
    evidence.start(out.run_id, b.resource, b.options.track_keys,
                   scope ? scope->fields : std::vector<std::pair<std::string, std::string>>{});
    // Kept past a rollback too: the run's id is then never used again.
    if (scope) parent_values[out.run_id] = scope->parent_value;
    return out;
  }

  void write_page(pqxx::work& tx, const write_command& c) {
    const auto& w = c.page;
    // The page commits only while its run's lease is still the run's.
    if (auto f = fences.find(w.run_id); f != fences.end()) check_lease(tx, w.resource, f->second);
    evidence.invalidate(w.run_id);
    auto& st = tables.for_change(w.resource);
    auto all = w.data->records();
    std::vector<const rapidjson::Value*> kept;
    if (!w.skip.empty()) {
      for (size_t i = 0; i < all.size(); ++i)
        if (i >= w.skip.size() || !w.skip[i]) kept.push_back(all[i]);
    }
    std::span<const rapidjson::Value* const> records =
        w.skip.empty() ? all : std::span<const rapidjson::Value* const>(kept);
    *c.result = {};
    if (!records.empty()) {
      for (const auto& m : tables.fit(tx, w.resource, st, records, w.offset)) {
        // Once per column and run: the values are in the variant column.
        if (log && st.misfits_logged.insert(m.column).second)
          log->warn("hint_misfit", {{"resource", w.resource},
                                    {"column", m.column},
                                    {"variant", m.variant},
                                    {"values", m.count},
                                    {"offset", w.offset}});
      }
      writer.add(tx, w.resource, w.run_id, records, w.offset, c.result);
    }
    evidence.note(w.run_id, st, all);
    auto& d = run_deltas[w.run_id];
    ++d.pages;
    d.records += static_cast<std::int64_t>(records.size());
    if (w.cursor) journal.store_cursor(tx, w.resource, parent_value(w.run_id), *w.cursor);
  }

  finish_counts finish_run(pqxx::work& tx, const run_summary& s) {
    finish_counts out;
    if (auto f = fences.find(s.run_id);
        f != fences.end() && !leases.holds(tx, s.resource, f->second)) {
      // Another daemon holds the resource now: the end of this run (its
      // cursor, deletions, state) is not written, only its own row.
      run_summary lost = s;
      lost.status = run_status::abandoned;
      if (lost.error.empty())
        lost.error = fmt::format(
            "{}: the lease was lost (expired or taken over) before the run "
            "ended; another daemon runs it now",
            s.resource);
      tables.end_run(tx, s.resource);
      journal.finish_run(tx, lost, 0);
      evidence.finish(s.run_id);
      finishing = s.run_id;
      out.abandoned = true;
      return out;
    }
    const bool ok = s.status == run_status::succeeded;
    const auto* table = tables.find(s.resource);
    if (ok && table != nullptr) {
      if (table->staging) {
        if (s.complete_scan) out.replaced = tables.swap_in(tx, *table);
      } else if (s.mark_deleted) {
        out.deleted = evidence.mark(tx, s, *table, out.deletions_skipped);
      }
    }
    tables.end_run(tx, s.resource);
    journal.finish_run(tx, s, out.deleted, parent_value(s.run_id));
    evidence.finish(s.run_id);
    finishing = s.run_id;
    return out;
  }

  void check_lease(pqxx::work& tx, const std::string& resource, const fence& f) {
    if (!leases.holds(tx, resource, f))
      throw store_error(
          fmt::format("{}: this daemon ({}) no longer holds the resource's lease "
                      "(token {}): it expired or another daemon took it over; "
                      "nothing more of this run is written",
                      resource, f.instance, f.token));
  }

  command_result lease(pqxx::work& tx, const lease_command& l) {
    using op = lease_command::op;
    switch (l.what) {
      case op::acquire:
        return leases.acquire(tx, l.resource, l.holder.instance, l.lease_ms);
      case op::renew: {
        lease_answer a;
        if (leases.renew(tx, l.resource, l.holder, l.lease_ms)) a.token = l.holder.token;
        return a;
      }
      case op::release:
        leases.release(tx, l.resource, l.holder, l.next_due_ms);
        return {};
      case op::release_all:
        leases.release_all(tx, l.holder.instance);
        return {};
      case op::heartbeat:
        return leases.heartbeat(tx, l.holder.instance, l.lease_ms);
      case op::reschedule:
        leases.reschedule(tx, l.resource, l.next_due_ms);
        return {};
    }
    return {};
  }

  std::string parent_value(std::int64_t run_id) const {
    auto it = parent_values.find(run_id);
    return it == parent_values.end() ? std::string() : it->second;
  }
};

// Routes each run to a worker: the one with the fewest runs in progress, so
// that concurrent runs use the connections in parallel. A run's pages stay
// on its worker, in order. Used from the caller's executor only.
struct store::impl {
  store_settings settings;
  std::vector<std::unique_ptr<worker>> workers;
  std::map<std::string, table_spec> specs;
  // The worker whose table state is current for a resource: the one that
  // ran it last (any other reloads it at the start of a run).
  std::map<std::string, size_t> current;
  // Runs in progress by resource: a resource's runs share a worker, so that
  // its pages commit in the order they were written and two connections
  // never contend for its rows.
  struct placement {
    size_t worker = 0;
    int runs = 0;  // begun or beginning, not finished
  };
  std::map<std::string, placement> placed;
  std::map<std::int64_t, std::string> run_resource;

  impl(asio::any_io_executor ex, store_settings s, logger* log) : settings(std::move(s)) {
    auto n = std::max<size_t>(1, settings.connections);
    for (size_t i = 0; i < n; ++i) workers.push_back(std::make_unique<worker>(ex, settings, log));
  }

  worker& first() { return *workers.front(); }

  // Where a run of the resource goes: with its resource's runs in progress,
  // else to the worker with the fewest runs (the current one on a tie).
  size_t least_busy(const std::string& resource) const {
    auto running = placed.find(resource);
    if (running != placed.end() && running->second.runs > 0) return running->second.worker;
    std::vector<int> active(workers.size(), 0);
    for (const auto& [name, p] : placed) active[p.worker] += p.runs;
    auto it = current.find(resource);
    size_t best = it == current.end() ? 0 : it->second;
    for (size_t i = 0; i < workers.size(); ++i)
      if (active[i] < active[best]) best = i;
    return best;
  }

  // A run about to begin on worker k; release() if it does not.
  void reserve(size_t k, const std::string& resource) {
    auto& p = placed[resource];
    p.worker = k;
    ++p.runs;
  }

  void release(const std::string& resource) { --placed[resource].runs; }

  void run_started(std::int64_t run_id, size_t k, const std::string& resource) {
    current[resource] = k;
    run_resource[run_id] = resource;
  }

  size_t worker_of_run(std::int64_t run_id) const {
    auto it = run_resource.find(run_id);
    if (it == run_resource.end())
      throw store_error(fmt::format("run {} was not begun by this store", run_id));
    return placed.at(it->second).worker;
  }

  void run_ended(std::int64_t run_id) {
    auto it = run_resource.find(run_id);
    if (it == run_resource.end()) return;
    release(it->second);
    run_resource.erase(it);
  }
};

store::store(asio::any_io_executor ex, store_settings settings, logger* log)
    : impl_(std::make_unique<impl>(std::move(ex), std::move(settings), log)) {}

store::~store() = default;

const store_settings& store::settings() const { return impl_->settings; }

asio::awaitable<void> store::open() {
  // Commands are named, not braced temporaries: GCC 12 destroys temporaries
  // in a co_await expression twice.
  command c = open_command{};
  co_await impl_->first().submit<std::monostate>(std::move(c));
}

asio::awaitable<void> store::prepare(table_spec spec) {
  catalog::check_name(spec.resource);
  // The table is loaded when its run begins, on the worker that serves the
  // run: a run may begin (and add columns) on another worker meanwhile.
  impl_->current.erase(spec.resource);
  impl_->specs[spec.resource] = std::move(spec);
  co_return;
}

asio::awaitable<run_start> store::begin_run(std::string resource, run_options options) {
  auto spec = impl_->specs.find(resource);
  if (spec == impl_->specs.end())
    throw store_error("resource '" + resource + "' was not prepared before its run");
  auto k = impl_->least_busy(resource);
  auto& w = *impl_->workers[k];
  begin_run_command c{resource, options, std::nullopt};
  auto cur = impl_->current.find(resource);
  if (cur == impl_->current.end() || cur->second != k) c.load = spec->second;
  impl_->reserve(k, resource);
  run_start out;
  try {
    command cmd = std::move(c);
    out = co_await w.submit<run_start>(std::move(cmd));
  } catch (...) {
    impl_->release(resource);
    throw;
  }
  impl_->run_started(out.run_id, k, resource);
  co_return out;
}

asio::awaitable<run_counters> store::write(page_write w) {
  auto& wk = *impl_->workers[impl_->worker_of_run(w.run_id)];
  // Set when the page's statement runs, which may be after this command
  // returns (pages of one table share a statement): read once the
  // transaction committed.
  auto result = std::make_shared<run_counters>();
  command c = write_command{std::move(w), result};
  co_await wk.submit<std::monostate>(std::move(c));
  co_return *result;
}

asio::awaitable<pass_check> store::end_pass(std::int64_t run_id, bool count_unseen) {
  auto& w = *impl_->workers[impl_->worker_of_run(run_id)];
  command c = end_pass_command{run_id, count_unseen};
  co_return co_await w.submit<pass_check>(std::move(c));
}

asio::awaitable<finish_counts> store::finish_run(run_summary s) {
  auto id = s.run_id;
  const auto resource = s.resource;
  auto& w = *impl_->workers[impl_->worker_of_run(id)];
  command c = finish_run_command{std::move(s)};
  finish_counts out;
  try {
    out = co_await w.submit<finish_counts>(std::move(c));
  } catch (...) {
    impl_->run_ended(id);
    throw;
  }
  impl_->run_ended(id);
  // Every caller fails such a run: its end was not written.
  if (out.abandoned)
    throw store_error(
        fmt::format("{}: the lease was lost (expired or taken over by another "
                    "daemon) before the run ended; its row says abandoned and "
                    "nothing of its end was written",
                    resource));
  co_return out;
}

asio::awaitable<std::vector<resource_state>> store::states() {
  command c = states_command{};
  co_return co_await impl_->first().submit<std::vector<resource_state>>(std::move(c));
}

asio::awaitable<parent_rows> store::read_parents(std::int64_t run_id, std::string resource,
                                                 std::vector<std::string> fields) {
  auto& w = *impl_->workers[impl_->worker_of_run(run_id)];
  command c = parent_rows_command{std::move(resource), std::move(fields)};
  co_return co_await w.submit<parent_rows>(std::move(c));
}

asio::awaitable<lease_answer> store::acquire_lease(std::string resource, std::string instance,
                                                   std::chrono::milliseconds lease) {
  command c = lease_command{lease_command::op::acquire, std::move(resource),
                            fence{std::move(instance), 0}, lease.count(), 0};
  co_return co_await impl_->first().submit<lease_answer>(std::move(c));
}

asio::awaitable<bool> store::renew_lease(std::string resource, fence f,
                                         std::chrono::milliseconds lease) {
  command c =
      lease_command{lease_command::op::renew, std::move(resource), std::move(f), lease.count(), 0};
  auto a = co_await impl_->first().submit<lease_answer>(std::move(c));
  co_return a.token.has_value();
}

asio::awaitable<void> store::release_lease(std::string resource, fence f,
                                           std::chrono::milliseconds next_due) {
  command c = lease_command{lease_command::op::release, std::move(resource), std::move(f), 0,
                            next_due.count()};
  co_await impl_->first().submit<std::monostate>(std::move(c));
}

asio::awaitable<void> store::reschedule(std::string resource, std::chrono::milliseconds next_due) {
  command c =
      lease_command{lease_command::op::reschedule, std::move(resource), {}, 0, next_due.count()};
  co_await impl_->first().submit<std::monostate>(std::move(c));
}

asio::awaitable<void> store::release_leases(std::string instance) {
  command c =
      lease_command{lease_command::op::release_all, {}, fence{std::move(instance), 0}, 0, 0};
  co_await impl_->first().submit<std::monostate>(std::move(c));
}

asio::awaitable<std::int64_t> store::heartbeat(std::string instance,
                                               std::chrono::milliseconds lease) {
  command c = lease_command{
      lease_command::op::heartbeat, {}, fence{std::move(instance), 0}, lease.count(), 0};
  co_return co_await impl_->first().submit<std::int64_t>(std::move(c));
}

asio::awaitable<std::int64_t> store::settle_orphans(std::int64_t run_id, orphan_rule rule,
                                                    std::vector<std::string> live, bool mark) {
  auto& w = *impl_->workers[impl_->worker_of_run(run_id)];
  command c = orphans_command{std::move(rule), std::move(live), mark};
  co_return co_await w.submit<std::int64_t>(std::move(c));
}

}  // namespace restsync::db

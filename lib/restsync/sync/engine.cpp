// The engine: one run of a resource, from begin_run to finish_run, over the
// plan, the incremental window and the two paging drivers; and run_all.
#include "restsync/sync/engine.hpp"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <numeric>
#include <set>

#include "restsync/incremental/window.hpp"
#include "restsync/plan/column_hints.hpp"
#include "restsync/plan/request_query.hpp"
#include "restsync/sync/engine_impl.hpp"

namespace restsync::sync {

namespace {

db::write_mode mode_of(disposition d) {
  switch (d) {
    case disposition::merge:
      return db::write_mode::merge;
    case disposition::append:
      return db::write_mode::append;
    case disposition::replace:
      return db::write_mode::replace;
  }
  return db::write_mode::merge;
}

}  // namespace

// The incremental window of a run (plan_window decides it); the run fails
// on a stored cursor that no longer reads.
void engine::impl::plan_incremental(run_context& ctx, const db::run_start& rs,
                                    const run_flags& flags) {
  const auto& rc = ctx.rc;
  if (!rc.endpoint.incremental) return;
  auto planned =
      plan_window(rc, window_state{rs.cursor, rs.since_complete_scan}, flags.full_refresh);
  if (auto* message = std::get_if<std::string>(&planned)) {
    ctx.fail(std::move(*message));
    return;
  }
  auto& w = std::get<incremental_window>(planned);
  ctx.full = w.full;
  ctx.stop_at_start = w.stop_at_start;
  ctx.advance.emplace(*rc.endpoint.incremental, std::move(w), rc.name);
}

asio::awaitable<run_outcome> engine::impl::run(const resource_config& rc, run_flags flags) {
  if (rc.parent) co_return co_await run_dependent(rc, flags);
  co_return co_await run_scan(rc, flags, nullptr);
}

asio::awaitable<db::table_spec> engine::impl::prepare_table(const resource_config& rc,
                                                            const resource_plan& plan) {
  db::table_spec spec{rc.name, rc.primary_key, mode_of(plan.write), store_hints(rc.columns)};
  co_await store.prepare(spec);
  co_return spec;
}

asio::awaitable<run_outcome> engine::impl::run_scan(const resource_config& rc, run_flags flags,
                                                    const parent_scope* scope) {
  auto started = steady::now();
  const auto index = resource_index.at(rc.name);
  const auto plan_ptr = plan_for(index, rc);
  const resource_plan& plan = *plan_ptr;
  auto endpoint_url = parse_url(scope ? scope->endpoint_url : plan.endpoint_url);
  run_context ctx(rc, index, &client_for(endpoint_url), plan.spec, retry_policy(plan.retry));
  ctx.out.resource = rc.name;
  if (scope) {
    ctx.parent_fields = &scope->fields;
    ctx.scope = scope;
    ctx.window = scope->window;
  }
  if (progress && !scope) progress->run_started(rc.name, started);
  for (const auto& h : cfg.client.headers) ctx.headers.emplace_back(h.first, h.second);
  for (const auto& h : creds.headers) ctx.headers.push_back(h);

  const bool mergeable = plan.write == disposition::merge;
  try {
    // A dependent resource's table was prepared once for all its parents.
    if (!scope) co_await prepare_table(rc, plan);
    // Keys are tracked (8 bytes a record) when the run may prove
    // deletions, a merge run that reads everything. For an incremental
    // resource that is only known from the state (full_scan_every), so
    // one with full_scan_every tracks them in every run; they also show
    // records met twice, a sign of moving data.
    db::run_options options;
    options.track_keys =
        mergeable && (!plan.incremental || rc.full_scan_every || flags.full_refresh);
    if (scope) options.scope = scope->scope;
    options.lease = flags.lease;
    auto rs = co_await store.begin_run(rc.name, options);
    ctx.run_id = rs.run_id;
    ctx.track_keys = options.track_keys;
    ctx.paging = rs.paging;
    plan_incremental(ctx, rs, flags);
  } catch (const std::exception& e) {
    ctx.fail(fmt::format("{}: cannot start the run: {}", rc.name, e.what()));
  }
  window_text window;
  if (ctx.advance) {
    const auto& w = ctx.advance->window();
    if (w.start) window.start = w.start->text;
    if (w.end) window.end = w.end->text;
    window.initial = plan.incremental->initial_value;
  }
  const query_params params = scope ? run_query(scope->endpoint, window, creds.params)
                                    : run_query(rc.endpoint, window, creds.params);
  ctx.base_target = append_query(endpoint_url.target, params);
  ctx.method = rc.endpoint.method;
  try {
    if (scope) {
      ctx.base_body = run_body(rc.endpoint, window,
                               [scope](std::string_view name) -> std::optional<body_value> {
                                 auto it = scope->body_values.find(name);
                                 if (it == scope->body_values.end()) return std::nullopt;
                                 return it->second;
                               });
    } else {
      ctx.base_body = run_body(rc.endpoint, window);
    }
  } catch (const std::exception& e) {
    ctx.fail(fmt::format("{}: cannot build the request body: {}", rc.name, e.what()));
  }

  bool sound = false;  // the scan saw the data hold still
  if (!ctx.failed) {
    log.info(
        "run_started",
        {{"resource", rc.name},
         log_field::unless_empty("parent", scope ? scope->label : std::string()),
         {"run", ctx.run_id},
         {"full", ctx.full},
         {"from", ctx.advance && ctx.advance->window().start ? ctx.advance->window().start->text
                                                             : std::string()}});
    if (auto* p = std::get_if<offset_paginator>(&rc.endpoint.paginator)) {
      sound = co_await page_offsets(ctx, *p);
    } else {
      co_await page_sequential(ctx);
      sound = !ctx.failed;
    }
  }
  ctx.out.ok = !ctx.failed;
  // An ignored response ends a scan early: what lies past it is unknown,
  // so the scan is not complete (no deletions, no replace swapped in, no
  // cursor moved), even if it looked complete before (the anchor re-read).
  if (ctx.failed || ctx.ignored) ctx.out.complete_scan = false;
  // The cursor moves (cursor_advance) only when the run read its whole
  // window (a complete scan, or down to the start) with the data holding still.
  const bool whole_window =
      !ctx.failed && !ctx.ignored && sound && (ctx.out.complete_scan || ctx.reached_start);
  std::optional<std::string> cursor;
  if (ctx.advance) {
    cursor = ctx.advance->advanced(whole_window);
    if (auto c = ctx.advance->after_run(whole_window)) ctx.out.cursor = *c;
  }
  ctx.out.counts.seconds = seconds_since(started);
  // The one way out of a run for its error, to the database, status and
  // metrics alike: a server that echoes the key must not put it there.
  ctx.out.error = secrets.mask(ctx.out.error);
  if (ctx.run_id != 0) {
    db::run_summary s;
    s.run_id = ctx.run_id;
    s.resource = rc.name;
    s.status = ctx.failed ? db::run_status::failed : db::run_status::succeeded;
    s.counts = ctx.out.counts;
    s.complete_scan = ctx.out.complete_scan && sound;
    s.error = ctx.out.error;
    s.cursor = cursor;
    // Only a sound complete scan of everything proves a record is gone.
    s.mark_deleted = mergeable && ctx.full && ctx.out.complete_scan && sound && !ctx.failed;
    s.hard_delete = rc.hard_delete;
    s.gate_rate = gate.allowed_rate();
    s.paging = ctx.learnt;
    s.ended_on_short_page = ctx.ended_on_short_page;
    s.short_page_checked = ctx.short_page_checked;
    if (mergeable && ctx.full && ctx.out.complete_scan && !sound)
      ctx.out.deletions_skipped = "the data moved during every scan";
    if (mergeable && ctx.full && ctx.ignored && !ctx.failed)
      ctx.out.deletions_skipped = fmt::format(
          "the scan ended on a response that response_actions ignores (status {}), so it "
          "does not show what no longer exists",
          *ctx.ignored);
    try {
      auto counts = co_await store.finish_run(s);
      ctx.out.counts.deleted = counts.deleted;
      if (!counts.deletions_skipped.empty()) ctx.out.deletions_skipped = counts.deletions_skipped;
    } catch (const std::exception& e) {
      if (!ctx.failed)
        ctx.out.error =
            secrets.mask(fmt::format("{}: recording the run failed: {}", rc.name, e.what()));
      ctx.out.ok = false;
    }
  }
  if (!ctx.out.deletions_skipped.empty())
    log.warn("deletions_skipped",
             {{"resource", rc.name},
              log_field::unless_empty("parent", scope ? scope->label : std::string()),
              {"reason", ctx.out.deletions_skipped}});
  log_summary(ctx.out, scope ? scope->label : std::string());
  if (progress && !scope) progress->run_finished(rc.name, ctx.out.ok, steady::now());
  co_return ctx.out;
}

void engine::impl::log_summary(const run_outcome& o, const std::string& parent) {
  log.log(o.ok ? log_level::info : log_level::error, "summary",
          {{"resource", o.resource},
           log_field::unless_empty("parent", parent),
           {"status", o.ok ? "ok" : "failed"},
           {"pages", o.counts.pages},
           {"records", o.counts.records},
           {"inserted", o.counts.inserted},
           {"updated", o.counts.updated},
           {"unchanged", o.counts.unchanged},
           {"requests", o.counts.requests},
           {"retries", o.counts.retries},
           {"rate_limited", o.counts.rate_limited},
           {"ignored", o.counts.ignored},
           {"filtered", o.counts.filtered},
           {"deleted", o.counts.deleted},
           {"rescans", o.counts.rescans},
           {"cursor", o.cursor},
           {"complete", o.complete_scan},
           {"seconds", o.counts.seconds},
           {"error", o.error}});
}

engine::engine(asio::any_io_executor ex, const config& cfg, db::store& store, logger& log)
    : impl_(std::make_unique<impl>(ex, cfg, store, log)) {}

engine::~engine() = default;

asio::awaitable<run_outcome> engine::run(const resource_config& resource, run_flags flags) {
  co_return co_await impl_->run(resource, flags);
}

std::int64_t engine::in_flight(std::string_view resource) const {
  auto it = impl_->resource_index.find(resource);
  return it == impl_->resource_index.end() ? 0 : impl_->in_flight[it->second];
}

double engine::allowed_rate() const { return impl_->gate.allowed_rate(); }

void engine::set_rate_share(double share) {
  const auto& r = impl_->cfg.client.rate_limit;
  impl_->gate.set_configured_rate(r.requests_per_second * share);
}

void engine::set_progress(progress_sink* sink) { impl_->progress = sink; }

std::int64_t engine::in_flight() const {
  return std::accumulate(impl_->in_flight.begin(), impl_->in_flight.end(), std::int64_t{0});
}

namespace {

struct join_state {
  std::size_t pending = 0;
  asio::steady_timer done;
};

asio::awaitable<void> join_one(std::shared_ptr<join_state> st, asio::awaitable<void> a) {
  co_await std::move(a);
  if (--st->pending == 0) st->done.cancel();
}

struct all_state {
  std::vector<run_outcome> outcomes;
  // Resources of this call that have not finished: a dependent resource
  // waits for its parent's run. `changed` is cancelled whenever one ends;
  // it never expires (re-arming it would cancel the other waiters).
  std::set<std::string, std::less<>> unfinished;
  std::unique_ptr<asio::steady_timer> changed;
};

asio::awaitable<void> run_one(engine& e, const resource_config* r, all_state& st, std::size_t i,
                              run_flags flags) {
  while (r->parent && st.unfinished.contains(r->parent->resource)) {
    boost::system::error_code ec;
    co_await st.changed->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  st.outcomes[i] = co_await e.run(*r, flags);
  st.unfinished.erase(r->name);
  st.changed->cancel();
}

}  // namespace

asio::awaitable<void> join_all(asio::any_io_executor ex, std::size_t count,
                               const std::function<asio::awaitable<void>(std::size_t)>& make) {
  if (count == 0) co_return;
  auto st = std::make_shared<join_state>(
      join_state{count, asio::steady_timer(ex, asio::steady_timer::time_point::max())});
  for (std::size_t i = 0; i < count; ++i) asio::co_spawn(ex, join_one(st, make(i)), asio::detached);
  while (st->pending > 0) {
    boost::system::error_code ec;
    co_await st->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<std::vector<run_outcome>> engine::run_all(
    std::vector<const resource_config*> resources, run_flags flags) {
  all_state st;
  st.outcomes.resize(resources.size());
  st.changed =
      std::make_unique<asio::steady_timer>(impl_->ex, asio::steady_timer::time_point::max());
  for (const auto* r : resources) st.unfinished.insert(r->name);
  co_await join_all(impl_->ex, resources.size(),
                    [&](std::size_t i) { return run_one(*this, resources[i], st, i, flags); });
  co_return std::move(st.outcomes);
}

}  // namespace restsync::sync

#include "restsync/sync/engine.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <map>
#include <numeric>
#include <random>

#include "restsync/flow/budget_driver.hpp"
#include "restsync/flow/gate_driver.hpp"
#include "restsync/flow/response_class.hpp"
#include "restsync/flow/retry_policy.hpp"
#include "restsync/http/auth.hpp"
#include "restsync/http/client.hpp"
#include "restsync/http/url.hpp"
#include "restsync/incremental/cursor.hpp"
#include "restsync/incremental/cursor_advance.hpp"
#include "restsync/incremental/window.hpp"
#include "restsync/paging/offset_scan.hpp"
#include "restsync/paging/page.hpp"
#include "restsync/paging/repeat_guard.hpp"
#include "restsync/paging/sequential.hpp"
#include "restsync/plan/limits.hpp"
#include "restsync/plan/request_query.hpp"
#include "restsync/plan/resource_plan.hpp"
#include "restsync/store/record_key.hpp"

namespace restsync::sync {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

namespace {

transport_error to_retry_error(net::transport_error_kind k) {
  switch (k) {
    case net::transport_error_kind::connect_failed:
      return transport_error::connect_failed;
    case net::transport_error_kind::timeout:
      return transport_error::timeout;
    case net::transport_error_kind::truncated:
      return transport_error::truncated_body;
    case net::transport_error_kind::tls:
      return transport_error::tls_error;
    case net::transport_error_kind::reset:
    case net::transport_error_kind::body_too_large:
    case net::transport_error_kind::protocol:
      return transport_error::reset;
  }
  return transport_error::reset;
}

asio::awaitable<void> sleep_for(milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

double seconds_since(steady::time_point t) {
  return std::chrono::duration<double>(steady::now() - t).count();
}

// The record's primary key fields as JSON text, to compare two reads.
std::string key_of(const rapidjson::Value& record, const std::vector<std::string>& fields) {
  return db::record_key(record, fields);
}

// What page_repeat_guard compares; 0 records make no fingerprint.
std::uint64_t fingerprint_of(const page& pg, const std::vector<std::string>& key_fields) {
  auto records = pg.records();
  return page_fingerprint(records.size(), key_of(*records.front(), key_fields),
                          key_of(*records.back(), key_fields));
}

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

struct fetch_result {
  // Holds the page's bytes in the memory budget until the page is stored.
  budget_lease lease;
  std::shared_ptr<page> data;
  std::optional<std::string> link;
  std::string error;       // set when data is null and not withdrawn
  bool withdrawn = false;  // not sent: no longer needed once the gate let it through
};

// Everything one run of one resource needs, alive for the run.
struct run_context {
  run_context(const resource_config& r, std::size_t i, net::http_client* c, page_spec s,
              retry_policy p)
      : rc(r), index(i), client(c), spec(std::move(s)), policy(std::move(p)) {}

  const resource_config& rc;
  std::size_t index;
  net::http_client* client;
  std::string base_target;  // origin-relative path with the endpoint's params
  net::header_list headers;
  page_spec spec;
  retry_policy policy;
  std::int64_t run_id = 0;
  run_outcome out;
  bool failed = false;
  // Issue no more requests: a failure, or a singleton answered the scan, or
  // an ordered scan reached its incremental start.
  bool stop = false;

  // Incremental loading (endpoint.incremental): the window and the cursor
  // it moves; empty without, or when the window could not be planned.
  std::optional<cursor_advance> advance;
  // row_order desc and a start: paging stops at the first page that is all
  // older than start.
  bool stop_at_start = false;
  bool reached_start = false;
  // The run reads every record (not an incremental window): a complete
  // scan proves what no longer exists.
  bool full = true;
  bool track_keys = false;
  // The record at the furthest position of the scan, for the drift check.
  std::int64_t anchor_position = -1;
  std::string anchor_key;

  void fail(std::string message) {
    if (!failed) out.error = std::move(message);
    failed = true;
    stop = true;
  }

  // Which records of a page to leave out; fails the run (returning nullopt)
  // on a cursor value that is missing (raise) or not a timestamp.
  // where names the page in messages: "the page at offset 100", "page 3 of the scan".
  std::optional<page_filter> filter(const page& pg, std::string_view where) {
    if (!advance) return page_filter{};
    auto f = advance->filter(pg.records(), where, [this](const rapidjson::Value& record) {
      return key_of(record, rc.primary_key);
    });
    if (auto* message = std::get_if<std::string>(&f)) {
      fail(std::move(*message));
      return std::nullopt;
    }
    return std::get<page_filter>(std::move(f));
  }
};

struct engine::impl {
  asio::any_io_executor ex;
  const config& cfg;
  db::store& store;
  logger& log;
  gate_driver gate;
  budget_driver budget;
  // What a request of each resource reserves: its latest response's charge.
  std::vector<std::size_t> page_charge;
  std::map<std::string, std::unique_ptr<net::http_client>> clients;
  std::map<std::string, std::size_t, std::less<>> resource_index;
  std::mt19937_64 rng{std::random_device{}()};
  request_credentials creds;
  // The query parameters that carry credentials: their values never reach a message.
  std::vector<std::string> credential_params;
  // Requests awaiting their response, by resource index.
  std::vector<std::int64_t> in_flight;
  // Every HTTP client's settings.
  net::http_settings http;
  // Each resource's plan, by resource index, once it ran.
  std::vector<std::shared_ptr<const resource_plan>> plans;

  impl(asio::any_io_executor e, const config& c, db::store& s, logger& l)
      : ex(e),
        cfg(c),
        store(s),
        log(l),
        gate(e, gate_settings(c.client.rate_limit)),
        budget(e, static_cast<std::size_t>(c.client.memory_budget)),
        page_charge(c.resources.size(), first_page_reservation),
        creds(credentials_for(c.client.auth)),
        in_flight(c.resources.size(), 0),
        http(http_settings_for(c)),
        plans(c.resources.size()) {
    for (std::size_t i = 0; i < c.resources.size(); ++i) resource_index[c.resources[i].name] = i;
    for (const auto& [name, value] : creds.params) credential_params.push_back(name);
  }

  // A target (or link) as messages show it: no credential in its query.
  std::string shown(std::string_view target) const {
    return redact_query(target, credential_params);
  }

  net::http_client& client_for(const url& u) {
    auto& slot = clients[u.origin()];
    if (!slot) slot = std::make_unique<net::http_client>(ex, u, http);
    return *slot;
  }

  // The plan of a resource, made at its first run (a configuration the
  // engine cannot plan fails that run, as it always did) and kept. Shared:
  // a run keeps its plan even if a run of another resource_config object
  // under the same name replaces it.
  std::shared_ptr<const resource_plan> plan_for(std::size_t index, const resource_config& rc) {
    auto& slot = plans[index];
    if (!slot || slot->resource != &rc)
      slot = std::make_shared<const resource_plan>(plan_resource(cfg.client, rc));
    return slot;
  }

  double random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

  // One request with the retry policy around it; a page that arrived whole or
  // the reason it could not.
  // still_needed, when given, is asked each time the gate lets the request
  // through; false withdraws it unsent.
  asio::awaitable<fetch_result> fetch(run_context& ctx, std::string target,
                                      std::function<bool()> still_needed) {
    retry_counts used;
    // Memory first: a request that waited for memory after the gate would
    // have spent a token that a request with room could have used.
    const auto asked_memory = steady::now();
    auto lease = co_await budget.open(page_charge[ctx.index]);
    ctx.out.counts.memory_wait_seconds += seconds_since(asked_memory);
    net::body_admission admit = [this, id = lease.id()](std::size_t body_bytes) {
      return budget.grow(id, body_bytes * page_memory_factor);
    };
    for (;;) {
      const auto asked = steady::now();
      co_await gate.acquire(ctx.index);
      ctx.out.counts.gate_wait_seconds += seconds_since(asked);
      if (still_needed && !still_needed()) {
        gate.refund();
        fetch_result withdrawn;
        withdrawn.withdrawn = true;
        co_return withdrawn;
      }
      ++ctx.out.counts.requests;
      auto started = steady::now();
      // get() never throws, and a frame destroyed while it waits belongs to
      // an event loop that is going away: nothing reads the count then.
      ++in_flight[ctx.index];
      auto result = co_await ctx.client->get(target, ctx.headers, admit);
      --in_flight[ctx.index];
      if (result.ok()) {
        ++ctx.out.counts.responses_by_status[result.response->status];
        // Charged as read: a body of unannounced length was not admitted first.
        const auto charge = result.response->body.size() * page_memory_factor;
        budget.force(lease.id(), charge);
        page_charge[ctx.index] = std::max(first_page_reservation, charge);
      } else {
        ++ctx.out.counts.transport_errors;
      }
      fetch_result fr;
      response_attempt attempt;
      if (!result.ok()) {
        attempt = classify_transport(to_retry_error(result.error), result.error_message);
      } else {
        auto& res = *result.response;
        auto c = classify_response(res.status, std::move(res.body), res.retry_after, ctx.spec);
        if (auto* p = std::get_if<page>(&c)) {
          fr.data = std::make_shared<page>(std::move(*p));
          fr.link = std::move(res.link);
          fr.lease = std::move(lease);
          log.debug(
              "page",
              {{"resource", ctx.rc.name},
               {"path", shown(target)},
               {"rows", fr.data->records().size()},
               {"ms", std::chrono::duration_cast<milliseconds>(steady::now() - started).count()}});
          co_return fr;
        }
        if (auto* f = std::get_if<response_failure>(&c)) {
          fr.error = fmt::format("{}: {} (path {})", ctx.rc.name, f->message, shown(target));
          co_return fr;
        }
        attempt = std::move(std::get<response_attempt>(c));
      }
      auto verdict = judge(attempt, ctx.policy, used, std::chrono::system_clock::now(), random01());
      const auto& decision = verdict.decision;
      if (decision.pause_all_until) gate.pause_until(*decision.pause_all_until);
      if (verdict.retry) {
        if (verdict.rate_limited)
          ++ctx.out.counts.rate_limited;
        else
          ++ctx.out.counts.retries;
        log.warn("retry", {{"resource", ctx.rc.name},
                           {"path", shown(target)},
                           {"status", attempt.outcome.status},
                           {"reason", decision.reason},
                           {"message", attempt.server_message},
                           {"wait_ms", decision.wait.count()}});
        co_await sleep_for(decision.wait);
        continue;
      }
      fr.error = fmt::format("{}: GET {} failed: {}", ctx.rc.name, shown(target), verdict.message);
      co_return fr;
    }
  }

  // position is the page's offset, or its index in a sequential scan; where
  // names it in messages.
  asio::awaitable<void> commit(run_context& ctx, std::shared_ptr<page> data, std::int64_t position,
                               std::string where, std::vector<char> skip,
                               std::optional<std::string> cursor) {
    ++ctx.out.counts.pages;
    ctx.out.counts.records += static_cast<std::int64_t>(data->records().size());
    ctx.out.counts.filtered += std::count(skip.begin(), skip.end(), 1);
    try {
      // Named, not a braced temporary: GCC 12 destroys temporaries in a
      // co_await expression twice.
      db::page_write w{ctx.rc.name, ctx.run_id,      std::move(data),
                       position,    std::move(skip), std::move(cursor)};
      auto counts = co_await store.write(std::move(w));
      ctx.out.counts.inserted += counts.inserted;
      ctx.out.counts.updated += counts.updated;
      ctx.out.counts.unchanged += counts.unchanged;
    } catch (const std::exception& e) {
      ctx.fail(fmt::format("{}: storing {} failed: {}", ctx.rc.name, where, e.what()));
    }
  }

  // Offset paging: a window of concurrent requests driven by offset_scan.
  struct offset_run {
    offset_scan scan;
    int tasks = 0;
    asio::steady_timer wake;
    bool singleton = false;
    page_repeat_guard repeats;
  };

  asio::awaitable<void> offset_task(run_context& ctx, offset_run& run, std::int64_t offset,
                                    const offset_paginator& p) {
    try {
      auto target = append_query(ctx.base_target, paging_query(ctx.rc.endpoint.paginator, offset));
      std::function<bool()> still_needed = [&ctx, &run, offset] {
        return !ctx.stop && !run.scan.withdraw_if_unneeded(offset);
      };
      auto r = co_await fetch(ctx, target, std::move(still_needed));
      if (r.withdrawn) {
        // Nothing to report: either the scan took it back, or the run stopped.
      } else if (!r.data) {
        run.scan.on_failed(offset);
        ctx.fail(std::move(r.error));
      } else {
        auto n = static_cast<std::int64_t>(r.data->records().size());
        if (r.data->singleton()) {
          // A singleton answers every offset with the same object: it is the
          // whole collection, so paging stops here.
          ctx.stop = true;
          ctx.out.complete_scan = true;
          run.singleton = true;
        } else {
          run.scan.on_page(offset, n, r.data->total());
          if (n > 0) {
            if (auto first =
                    run.repeats.on_page(offset, fingerprint_of(*r.data, ctx.rc.primary_key)))
              ctx.fail(fmt::format(
                  "{}: the API seems to ignore the paging parameter `{}`: the page at offset {} "
                  "holds the same records as at offset {} and after; stopping. An endpoint that "
                  "answers everything at once wants `paginator: single_page`",
                  ctx.rc.name, p.offset_param, offset, *first));
          }
          if (!ctx.failed && n > 0 && offset + n - 1 > ctx.anchor_position) {
            ctx.anchor_position = offset + n - 1;
            ctx.anchor_key = key_of(*r.data->records().back(), ctx.rc.primary_key);
          }
        }
        const auto where = fmt::format("the page at offset {}", offset);
        auto f = ctx.filter(*r.data, where);
        if (f && ctx.stop_at_start && f->all_older) {
          // Newest first, and this whole page is older than the cursor: so
          // is everything after it.
          ctx.reached_start = true;
          ctx.stop = true;
        }
        // Its window slot is free: the next request need not wait for this
        // commit. The task still counts until committed, bounding the pages held.
        run.wake.cancel();
        if (f && n > 0 && !ctx.failed)
          co_await commit(ctx, r.data, offset, where, std::move(f->skip), std::nullopt);
      }
    } catch (const std::exception& e) {
      ctx.fail(fmt::format("{}: internal error at offset {}: {}", ctx.rc.name, offset, e.what()));
    }
    --run.tasks;
    run.wake.cancel();
  }

  // One scan; true when the data visibly moved while it paged.
  asio::awaitable<bool> scan_offsets(run_context& ctx, const offset_paginator& p) {
    offset_scan_settings s;
    s.start = p.offset;
    s.limit = p.limit;
    // Stopping at the cursor needs the pages one by one: speculative pages
    // past it would be requests spent for nothing.
    s.window =
        ctx.stop_at_start ? 1 : static_cast<std::size_t>(std::max(1, cfg.client.max_in_flight));
    s.maximum_offset = p.maximum_offset;
    ctx.anchor_position = -1;
    ctx.anchor_key.clear();
    offset_run run{offset_scan(s), 0, asio::steady_timer(ex), false, {}};
    const int max_tasks = limits::tasks_per_window_slot * static_cast<int>(s.window);
    for (;;) {
      while (!ctx.stop && run.tasks < max_tasks) {
        auto off = run.scan.next_request();
        if (!off) break;
        ++run.tasks;
        asio::co_spawn(ex, offset_task(ctx, run, *off, p), asio::detached);
      }
      if (run.tasks == 0) break;
      run.wake.expires_at(asio::steady_timer::time_point::max());
      boost::system::error_code ec;
      co_await run.wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ctx.failed && !ctx.out.complete_scan && !ctx.reached_start) {
      if (run.scan.complete())
        ctx.out.complete_scan = true;
      else
        ctx.fail(ctx.rc.name + ": paging stopped before the end without an error (internal)");
    }
    if (ctx.failed || run.singleton) co_return false;
    const auto& d = run.scan.drift();
    db::pass_check check;
    if (ctx.track_keys) {
      try {
        check = co_await store.end_pass(ctx.run_id, ctx.full);
      } catch (const std::exception& e) {
        ctx.fail(fmt::format("{}: {}", ctx.rc.name, e.what()));
        co_return false;
      }
    }
    const std::int64_t repeated = check.repeated;
    // Pages that overlap on purpose (a silent cap shrank the step) repeat
    // records; a key met more often than that moved between pages.
    bool moved_keys = repeated > run.scan.stats().overlap_records;
    bool tail_moved = false;
    // Only worth a request when rows are about to be marked deleted.
    if (!d.any() && !moved_keys && ctx.full && check.unseen > 0 && ctx.anchor_position >= 0)
      tail_moved = !co_await anchor_holds(ctx);
    if (ctx.failed) co_return false;
    bool drift = d.any() || moved_keys || tail_moved;
    if (drift)
      log.warn("offset_drift", {{"resource", ctx.rc.name},
                                {"total_changed", d.total_changed},
                                {"records_past_total", d.records_past_total},
                                {"empty_below_total", d.empty_below_total},
                                {"records_past_empty", d.records_past_empty},
                                {"records_after_end", d.records_after_end},
                                {"repeated_keys", repeated - run.scan.stats().overlap_records},
                                {"tail_moved", tail_moved}});
    co_return drift;
  }

  // Records removed in front of positions not yet read shift the rest back,
  // so a scan can miss one without any sign. Read again the position of the
  // last record the scan saw: if another record is there now, the records
  // moved and the scan may have missed some.
  asio::awaitable<bool> anchor_holds(run_context& ctx) {
    auto target =
        append_query(ctx.base_target, paging_query(ctx.rc.endpoint.paginator, ctx.anchor_position));
    std::function<bool()> always;
    auto r = co_await fetch(ctx, target, std::move(always));
    if (!r.data) {
      ctx.fail(std::move(r.error));
      co_return false;
    }
    auto records = r.data->records();
    co_return !records.empty() && key_of(*records.front(), ctx.rc.primary_key) == ctx.anchor_key;
  }

  // Scans until a scan sees no movement (at most limits::max_scans), so that a
  // complete scan really saw every record; says whether the last was clean.
  asio::awaitable<bool> page_offsets(run_context& ctx, const offset_paginator& p) {
    for (int scan = 1;; ++scan) {
      bool drift = co_await scan_offsets(ctx, p);
      if (!drift) co_return !ctx.failed;
      if (scan == limits::max_scans) {
        log.warn("drift_unresolved", {{"resource", ctx.rc.name}, {"scans", scan}});
        co_return false;
      }
      ++ctx.out.counts.rescans;
      ctx.out.complete_scan = false;
      ctx.reached_start = false;
      ctx.stop = false;
    }
  }

  // The paginators that learn the next request from the previous answer:
  // sequential_pager decides where to go, this sends and stores.
  asio::awaitable<void> page_sequential(run_context& ctx) {
    sequential_settings settings;
    settings.paginator = ctx.rc.endpoint.paginator;
    settings.base_target = ctx.base_target;
    settings.origin = ctx.client->origin().origin();
    settings.link_params = creds.params;
    settings.secret_params = credential_params;
    sequential_pager pager(std::move(settings));
    std::string target = pager.first_target();
    while (!ctx.stop) {
      const std::int64_t n_page = pager.pages();
      std::function<bool()> always;
      auto r = co_await fetch(ctx, target, std::move(always));
      if (!r.data) {
        ctx.fail(std::move(r.error));
        break;
      }
      received_page got;
      got.records = static_cast<std::int64_t>(r.data->records().size());
      got.singleton = r.data->singleton();
      if (got.records > 0 && !got.singleton)
        got.fingerprint = fingerprint_of(*r.data, ctx.rc.primary_key);
      got.total = r.data->total();
      got.next = r.data->next();
      got.link = r.link;
      auto step = pager.on_page(got);
      if (step.what == pager_step::kind::failed && !step.store_page) {
        ctx.fail(fmt::format("{}: {}", ctx.rc.name, step.message));
        break;
      }
      const auto where = fmt::format("page {} of the scan", n_page + 1);
      auto f = ctx.filter(*r.data, where);
      if (!f) break;
      // Pages arrive in order here: ascending, the cursor may move with each
      // page, in the page's own transaction.
      std::optional<std::string> cursor;
      if (ctx.advance) cursor = ctx.advance->page_cursor();
      if (got.records > 0)
        co_await commit(ctx, r.data, n_page, where, std::move(f->skip), std::move(cursor));
      if (ctx.failed) break;
      if (ctx.stop_at_start && f->all_older) {
        ctx.reached_start = true;
        break;
      }
      if (step.what == pager_step::kind::failed) {
        ctx.fail(fmt::format("{}: {}", ctx.rc.name, step.message));
        break;
      }
      if (step.what == pager_step::kind::done) {
        ctx.out.complete_scan = true;
        break;
      }
      target = std::move(step.target);
    }
  }

  // The incremental window of a run (plan_window decides it); the run fails
  // on a stored cursor that no longer reads.
  void plan_incremental(run_context& ctx, const db::run_start& rs, const run_flags& flags) {
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

  asio::awaitable<run_outcome> run(const resource_config& rc, run_flags flags) {
    auto started = steady::now();
    const auto index = resource_index.at(rc.name);
    const auto plan_ptr = plan_for(index, rc);
    const resource_plan& plan = *plan_ptr;
    auto endpoint_url = parse_url(plan.endpoint_url);
    run_context ctx(rc, index, &client_for(endpoint_url), plan.spec, retry_policy(plan.retry));
    ctx.out.resource = rc.name;
    for (const auto& h : cfg.client.headers) ctx.headers.emplace_back(h.first, h.second);
    for (const auto& h : creds.headers) ctx.headers.push_back(h);

    const bool mergeable = plan.write == disposition::merge;
    try {
      db::table_spec spec{rc.name, rc.primary_key, mode_of(plan.write)};
      co_await store.prepare(std::move(spec));
      // Keys are tracked (8 bytes a record) when the run may prove
      // deletions, a merge run that reads everything. For an incremental
      // resource that is only known from the state (full_scan_every), so
      // one with full_scan_every tracks them in every run; they also show
      // records met twice, a sign of moving data.
      db::run_options options;
      options.track_keys =
          mergeable && (!plan.incremental || rc.full_scan_every || flags.full_refresh);
      auto rs = co_await store.begin_run(rc.name, options);
      ctx.run_id = rs.run_id;
      ctx.track_keys = options.track_keys;
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
    const query_params params = run_query(rc.endpoint, window, creds.params);
    ctx.base_target = append_query(endpoint_url.target, params);

    bool sound = false;  // the scan saw the data hold still
    if (!ctx.failed) {
      log.info("run_started", {{"resource", rc.name},
                               {"run", ctx.run_id},
                               {"full", ctx.full},
                               {"from", ctx.advance && ctx.advance->window().start
                                            ? ctx.advance->window().start->text
                                            : std::string()}});
      if (auto* p = std::get_if<offset_paginator>(&rc.endpoint.paginator)) {
        sound = co_await page_offsets(ctx, *p);
      } else {
        co_await page_sequential(ctx);
        sound = !ctx.failed;
      }
    }
    ctx.out.ok = !ctx.failed;
    if (ctx.failed) ctx.out.complete_scan = false;
    // The cursor moves (cursor_advance) only when the run read its whole
    // window (a complete scan, or down to the start) with the data holding still.
    const bool whole_window = !ctx.failed && sound && (ctx.out.complete_scan || ctx.reached_start);
    std::optional<std::string> cursor;
    if (ctx.advance) {
      cursor = ctx.advance->advanced(whole_window);
      if (auto c = ctx.advance->after_run(whole_window)) ctx.out.cursor = *c;
    }
    ctx.out.counts.seconds = seconds_since(started);
    // The one way out of a run for its error, to the database, status and
    // metrics alike: a server that echoes the key must not put it there.
    ctx.out.error = cfg.secrets.mask(ctx.out.error);
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
      if (mergeable && ctx.full && ctx.out.complete_scan && !sound)
        ctx.out.deletions_skipped = "the data moved during every scan";
      try {
        auto counts = co_await store.finish_run(s);
        ctx.out.counts.deleted = counts.deleted;
        if (!counts.deletions_skipped.empty()) ctx.out.deletions_skipped = counts.deletions_skipped;
      } catch (const std::exception& e) {
        if (!ctx.failed)
          ctx.out.error =
              cfg.secrets.mask(fmt::format("{}: recording the run failed: {}", rc.name, e.what()));
        ctx.out.ok = false;
      }
    }
    if (!ctx.out.deletions_skipped.empty())
      log.warn("deletions_skipped", {{"resource", rc.name}, {"reason", ctx.out.deletions_skipped}});
    log_summary(ctx.out);
    co_return ctx.out;
  }

  void log_summary(const run_outcome& o) {
    log.log(o.ok ? log_level::info : log_level::error, "summary",
            {{"resource", o.resource},
             {"status", o.ok ? "ok" : "failed"},
             {"pages", o.counts.pages},
             {"records", o.counts.records},
             {"inserted", o.counts.inserted},
             {"updated", o.counts.updated},
             {"unchanged", o.counts.unchanged},
             {"requests", o.counts.requests},
             {"retries", o.counts.retries},
             {"rate_limited", o.counts.rate_limited},
             {"filtered", o.counts.filtered},
             {"deleted", o.counts.deleted},
             {"rescans", o.counts.rescans},
             {"cursor", o.cursor},
             {"complete", o.complete_scan},
             {"seconds", o.counts.seconds},
             {"error", o.error}});
  }
};

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

std::int64_t engine::in_flight() const {
  return std::accumulate(impl_->in_flight.begin(), impl_->in_flight.end(), std::int64_t{0});
}

namespace {

struct all_state {
  std::vector<run_outcome> outcomes;
  int pending = 0;
  std::unique_ptr<asio::steady_timer> done;
};

asio::awaitable<void> run_one(engine& e, const resource_config* r, all_state& st, std::size_t i,
                              run_flags flags) {
  st.outcomes[i] = co_await e.run(*r, flags);
  if (--st.pending == 0) st.done->cancel();
}

}  // namespace

asio::awaitable<std::vector<run_outcome>> engine::run_all(
    std::vector<const resource_config*> resources, run_flags flags) {
  all_state st;
  st.outcomes.resize(resources.size());
  st.pending = static_cast<int>(resources.size());
  st.done = std::make_unique<asio::steady_timer>(impl_->ex, asio::steady_timer::time_point::max());
  for (std::size_t i = 0; i < resources.size(); ++i)
    asio::co_spawn(impl_->ex, run_one(*this, resources[i], st, i, flags), asio::detached);
  while (st.pending > 0) {
    boost::system::error_code ec;
    co_await st.done->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return std::move(st.outcomes);
}

}  // namespace restsync::sync

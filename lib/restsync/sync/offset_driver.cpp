// Offset paging: a window of concurrent requests driven by offset_scan, the
// drift checks after each scan (offset_scan's drift, repeated keys, the
// anchor read again) and the scans again while the data moves.
#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "restsync/paging/offset_scan.hpp"
#include "restsync/plan/request_query.hpp"
#include "restsync/sync/engine_impl.hpp"

namespace restsync::sync {

// The state of one offset scan.
struct engine::impl::offset_run {
  offset_scan scan;
  int tasks = 0;
  asio::steady_timer wake;
  bool singleton = false;
  page_repeat_guard repeats;
};

asio::awaitable<void> engine::impl::offset_task(run_context& ctx, offset_run& run,
                                                std::int64_t offset, const offset_paginator& p) {
  try {
    // Each request carries its own body: its position is written into it.
    auto request = request_at(ctx.shared_request(), ctx.rc.endpoint.paginator, offset);
    std::function<bool()> still_needed = [&ctx, &run, offset] {
      return !ctx.stop && !run.scan.withdraw_if_unneeded(offset);
    };
    auto r = co_await fetch(ctx, std::move(request), std::move(still_needed));
    if (r.withdrawn) {
      // Nothing to report: either the scan took it back, or the run stopped.
    } else if (r.ignored) {
      // No records here: the scan ends without reaching its end.
      ctx.ignore(*r.ignored);
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
          if (auto first = run.repeats.on_page(offset, fingerprint_of(*r.data, ctx.rc.primary_key)))
            ctx.fail(fmt::format(
                "{}: the API seems to ignore the paging parameter `{}`: the page at offset {} "
                "holds the same records as at offset {} and after; stopping. An endpoint that "
                "answers everything at once wants `paginator: single_page`",
                ctx.rc.name, p.offset_param, offset, *first));
        }
        if (!ctx.failed && n > 0 && offset + n - 1 > ctx.anchor_position) {
          ctx.anchor_position = offset + n - 1;
          ctx.anchor_key = db::record_key(*r.data->records().back(), ctx.rc.primary_key);
        }
      }
      const auto where = fmt::format("the page at offset {}", offset);
      auto f = ctx.filter(*r.data, where);
      if (f && ctx.stop_at_start && f->reaches_start) {
        // Newest first, and this page reaches past the cursor: everything
        // after it is older still.
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

// One scan: its requests (drive_scan), then whether the data held still
// (judge_scan); true when it visibly moved while the scan paged.
asio::awaitable<bool> engine::impl::scan_offsets(run_context& ctx, const offset_paginator& p) {
  offset_scan_settings s;
  s.start = p.offset;
  s.limit = p.limit;
  // Stopping at the cursor needs the pages one by one: speculative pages
  // past it would be requests spent for nothing.
  s.window = ctx.stop_at_start ? 1
             : ctx.window > 0  ? ctx.window
                               : static_cast<std::size_t>(std::max(1, cfg.client.max_in_flight));
  s.maximum_offset = p.maximum_offset;
  s.known_page = ctx.paging_now().page_size;
  s.short_page_ends = p.stop_on_short_page && !ctx.paging_now().page_sizes_vary;
  ctx.anchor_position = -1;
  ctx.anchor_key.clear();
  offset_run run{offset_scan(s), 0, asio::steady_timer(ex), false, {}};
  co_await drive_scan(ctx, run, p, s.window);
  // Cut short by an ignored response: it taught nothing about the paging,
  // and there is nothing to check for movement.
  if (ctx.ignored && !ctx.failed) co_return false;
  if (!ctx.failed && !ctx.out.complete_scan && !ctx.reached_start) {
    if (run.scan.complete())
      ctx.out.complete_scan = true;
    else
      ctx.fail(ctx.rc.name + ": paging stopped before the end without an error (internal)");
  }
  if (run.singleton) co_return false;
  learn_paging(ctx, run.scan);
  if (ctx.failed) co_return false;
  co_return co_await judge_scan(ctx, run.scan);
}

// The requests of one scan: up to the window in flight, until the scan
// ends; then, when due, the offset after a short page's end (see
// limits::short_page_check_seconds).
asio::awaitable<void> engine::impl::drive_scan(run_context& ctx, offset_run& run,
                                               const offset_paginator& p, std::size_t window) {
  const int max_tasks = limits::tasks_per_window_slot * static_cast<int>(window);
  bool checking_short_page = false;
  for (;;) {
    while (!ctx.stop && run.tasks < max_tasks) {
      auto off = run.scan.next_request();
      if (!off) break;
      ++run.tasks;
      asio::co_spawn(ex, offset_task(ctx, run, *off, p), asio::detached);
    }
    if (run.tasks > 0) {
      run.wake.expires_at(asio::steady_timer::time_point::max());
      boost::system::error_code ec;
      co_await run.wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (!ctx.stop && run.scan.soft_end() && short_page_check_due(ctx)) {
      run.scan.confirm_end();
      checking_short_page = true;
      log.info("short_page_check",
               {{"resource", ctx.rc.name}, {"offset", run.scan.contiguous_end()}});
      continue;
    }
    break;
  }
  if (run.scan.soft_end()) ctx.ended_on_short_page = true;
  if (checking_short_page && run.scan.complete() && !run.scan.drift().page_sizes_vary)
    ctx.short_page_checked = true;
}

// Whether the data moved under a scan that ended: the scan's own signs
// (offset_scan_drift), keys met twice that do not hold still, and, when
// rows are about to be marked deleted, the re-read of the last record.
asio::awaitable<bool> engine::impl::judge_scan(run_context& ctx, const offset_scan& scan) {
  const auto& d = scan.drift();
  db::pass_check check;
  if (ctx.track_keys) {
    try {
      check = co_await store.end_pass(ctx.run_id, ctx.full);
    } catch (const std::exception& e) {
      ctx.fail(fmt::format("{}: {}", ctx.rc.name, e.what()));
      co_return false;
    }
  }
  // Pages that overlap on purpose (a silent cap shrank the step) repeat
  // records; a key met more often than that moved between pages, unless
  // the API serves it twice where it stands (repeats_hold_still).
  const repeat_signature repeats{check.repeated - scan.stats().overlap_records,
                                 check.repeat_digest};
  bool moved_keys = repeats.count > 0 && !repeats_hold_still(ctx, repeats);
  // A full scan that met no key twice: whatever was served twice is gone.
  if (repeats.count == 0 && ctx.full && ctx.paging_now().stable_repeats != 0 && !d.any())
    ctx.learning().stable_repeats = 0;
  ctx.last_repeats = repeats;
  bool tail_moved = false;
  bool past_soft_end = false;
  // Only worth a request when rows are about to be marked deleted. The same
  // request confirms a soft end (a short page): rows are never marked
  // deleted on a short page's word alone.
  if (!d.any() && !moved_keys && ctx.full && check.unseen > 0 && ctx.anchor_position >= 0) {
    auto anchor = co_await check_anchor(ctx);
    if (!anchor) co_return false;
    tail_moved = !anchor->holds;
    if (scan.soft_end() && anchor->records_past) {
      // The short page was capped after all: page sizes vary. Scan again,
      // confirming every end.
      past_soft_end = true;
      note_sizes_vary(ctx);
    }
  }
  bool drift = d.any() || moved_keys || tail_moved || past_soft_end;
  if (drift)
    log.warn("offset_drift", {{"resource", ctx.rc.name},
                              {"total_changed", d.total_changed},
                              {"records_past_total", d.records_past_total},
                              {"empty_below_total", d.empty_below_total},
                              {"records_past_empty", d.records_past_empty},
                              {"records_after_end", d.records_after_end},
                              {"repeated_keys", repeats.count},
                              {"tail_moved", tail_moved},
                              {"records_past_short_page", past_soft_end}});
  co_return drift;
}

// What a scan showed about the paging, for the scans after it and the next
// run: the page size it proved, or that page sizes vary.
void engine::impl::learn_paging(run_context& ctx, const offset_scan& scan) {
  if (scan.drift().page_sizes_vary)
    note_sizes_vary(ctx);
  else if (auto proven = scan.proven_page())
    ctx.learning().page_size = proven;
}

// Keys met twice by a scan are movement (records shifting between pages
// under it) unless they hold still: the run's previous scan met the same
// keys as often, or, for a run's first full scan, an earlier run found that
// many to hold still (a count only: key hashes are seeded per run). An API
// that serves a record at two positions then costs one scan more once, in
// the run that finds it, and none after. Only full scans (the whole
// collection) teach the count; a window's repeats are a part of it.
bool engine::impl::repeats_hold_still(run_context& ctx, const repeat_signature& repeats) {
  const bool same_as_last_scan = ctx.last_repeats && *ctx.last_repeats == repeats;
  const bool as_learnt =
      !ctx.last_repeats && ctx.full && repeats.count == ctx.paging.stable_repeats;
  if (!same_as_last_scan && !as_learnt) return false;
  if (ctx.full) ctx.learning().stable_repeats = repeats.count;
  log.info("stable_repeats",
           {{"resource", ctx.rc.name},
            {"keys", repeats.count},
            {"detail", same_as_last_scan ? "the same keys twice in two scans in a row: served "
                                           "at two positions, not moving"
                                         : "as many keys twice as earlier runs found to hold "
                                           "still"}});
  return true;
}

// Whether a scan that ended on a short page should ask the offset after it
// anyway (limits::short_page_check_seconds): once a run, when the last
// check (or the first short end) is that old.
bool engine::impl::short_page_check_due(const run_context& ctx) const {
  const auto& since = ctx.paging.since_short_page_check;
  return !ctx.short_page_checked && since && *since >= limits::short_page_check_seconds;
}

void engine::impl::note_sizes_vary(run_context& ctx) {
  if (ctx.learnt && ctx.learnt->page_sizes_vary) return;
  ctx.learning().page_sizes_vary = true;
  ctx.learnt->page_size.reset();
  log.warn("page_sizes_vary",
           {{"resource", ctx.rc.name},
            {"detail",
             "a short page was followed by records: from here on only an empty page, "
             "a total or maximum_offset ends a scan"}});
}

// Records removed in front of positions not yet read shift the rest back,
// so a scan can miss one without any sign. Read again the position of the
// last record the scan saw: if another record is there now, the records
// moved and the scan may have missed some; records after it mean the scan
// did not reach the end. nullopt: the request failed (and so did the run).
asio::awaitable<std::optional<engine::impl::anchor_check>> engine::impl::check_anchor(
    run_context& ctx) {
  auto request = request_at(ctx.shared_request(), ctx.rc.endpoint.paginator, ctx.anchor_position);
  std::function<bool()> always;
  auto r = co_await fetch(ctx, std::move(request), std::move(always));
  if (r.ignored) {
    // The re-read cannot vouch for the scan: nothing is marked deleted.
    ctx.ignore(*r.ignored);
    co_return std::nullopt;
  }
  if (!r.data) {
    ctx.fail(std::move(r.error));
    co_return std::nullopt;
  }
  auto records = r.data->records();
  anchor_check out;
  out.holds =
      !records.empty() && db::record_key(*records.front(), ctx.rc.primary_key) == ctx.anchor_key;
  out.records_past = records.size() > 1;
  co_return out;
}

// Scans until a scan sees no movement (at most limits::max_scans), so that a
// complete scan really saw every record; says whether the last was clean.
asio::awaitable<bool> engine::impl::page_offsets(run_context& ctx, const offset_paginator& p) {
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

}  // namespace restsync::sync

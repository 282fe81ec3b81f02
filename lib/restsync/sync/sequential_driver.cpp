// Sequential paging (page_number, cursor, json_link, header_link): the pure
// sequential_pager decides where to go next; this sends and stores.
#include <fmt/format.h>

#include "restsync/paging/sequential.hpp"
#include "restsync/sync/engine_impl.hpp"

namespace restsync::sync {

asio::awaitable<void> engine::impl::page_sequential(run_context& ctx) {
  sequential_settings settings;
  settings.paginator = ctx.rc.endpoint.paginator;
  settings.base_target = ctx.base_target;
  settings.method = ctx.method;
  settings.base_body = ctx.base_body;
  settings.origin = ctx.client->origin().origin();
  settings.link_params = creds.params;
  settings.secret_params = credential_params;
  sequential_pager pager(std::move(settings));
  http_request request = pager.first_request();
  while (!ctx.stop) {
    const std::int64_t n_page = pager.pages();
    std::function<bool()> always;
    auto r = co_await fetch(ctx, request, std::move(always));
    if (r.ignored) {
      ctx.ignore(*r.ignored);
      break;
    }
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
    got.next_is_number = r.data->next_is_number();
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
    if (ctx.stop_at_start && f->reaches_start) {
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
    request = std::move(step.request);
  }
}

}  // namespace restsync::sync

// One request of a run, through the memory budget, the rate gate, the HTTP
// client and the retry policy; and one page, through the store.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "restsync/flow/response_class.hpp"
#include "restsync/sync/engine_impl.hpp"
#include "restsync/sync/waits.hpp"

namespace restsync::sync {

namespace {

bool unauthorized(const attempt_outcome& o) {
  using k = attempt_outcome::kind;
  return (o.what == k::response && o.status == 401) ||
         (o.what == k::errors_in_body && o.error_code == 401);
}

}  // namespace

asio::awaitable<fetch_result> engine::impl::fetch(run_context& ctx, http_request request,
                                                  std::function<bool()> still_needed) {
  const std::string& target = request.target;
  retry_counts used;
  // OAuth2: the request was sent again with a new token after a 401; a
  // second 401 fails it.
  bool renewed_after_401 = false;
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
    const auto granted_at = co_await gate.acquire(ctx.index);
    ctx.out.counts.gate_wait_seconds += seconds_since(asked);
    if (still_needed && !still_needed()) {
      gate.refund();
      fetch_result withdrawn;
      withdrawn.withdrawn = true;
      co_return withdrawn;
    }
    // The token after the gate, so that a wait there cannot make it stale;
    // usually the cached one, else this request waits for its fetch.
    std::string token;
    if (tokens) {
      auto t = co_await tokens->get();
      if (!t.ok()) {
        gate.refund();
        fetch_result failed;
        failed.error = fmt::format("{}: {}", ctx.rc.name, t.error);
        co_return failed;
      }
      token = std::move(t.token);
    }
    net::header_list headers = ctx.headers;
    if (tokens) headers.emplace_back("Authorization", "Bearer " + token);
    ++ctx.out.counts.requests;
    if (progress) progress->request_sent(ctx.rc.name);
    auto started = steady::now();
    // get() never throws, and a frame destroyed while it waits belongs to
    // an event loop that is going away: nothing reads the count then.
    ++in_flight[ctx.index];
    std::function<void()> sending = [this] { gate.on_sent(); };
    auto result = co_await ctx.client->send(request, std::move(headers), admit, std::move(sending));
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
      attempt = classify_transport(retry_error_of(result.error), result.error_message);
    } else {
      auto& res = *result.response;
      auto c = classify_response(res.status, std::move(res.body), res.retry_after, ctx.spec,
                                 ctx.rc.endpoint.response_actions);
      if (auto* ignored = std::get_if<response_ignored>(&c)) {
        gate.on_accepted();
        ++ctx.out.counts.ignored;
        log.info("response_ignored", {{"resource", ctx.rc.name},
                                      {"path", shown(target)},
                                      {"status", ignored->status},
                                      {"reason", ignored->reason}});
        fr.ignored = ignored->status;
        co_return fr;
      }
      if (auto* p = std::get_if<page>(&c)) {
        gate.on_accepted();
        fr.data = std::make_shared<page>(std::move(*p));
        if (ctx.parent_fields) fr.data->add_fields(*ctx.parent_fields);
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
        gate.on_accepted();  // an answer, if not a welcome one
        fr.error = fmt::format("{}: {} (path {})", ctx.rc.name, f->message, shown(target));
        co_return fr;
      }
      attempt = std::move(std::get<response_attempt>(c));
    }
    if (tokens && unauthorized(attempt.outcome) && !renewed_after_401) {
      // The token expired early or was revoked: one new token, the same request again.
      renewed_after_401 = true;
      gate.on_accepted();
      tokens->reject(token);
      log.info("token_rejected", {{"resource", ctx.rc.name},
                                  {"path", shown(target)},
                                  {"detail",
                                   "401 with the cached OAuth2 token: fetching a new "
                                   "one and sending the request again"}});
      continue;
    }
    auto verdict = judge(attempt, ctx.policy, used, std::chrono::system_clock::now(), random01());
    const auto& decision = verdict.decision;
    // The gate learns from every answer: a 429 slows it (before the pause,
    // so that the pause ends on one token), any other may speed it up.
    if (decision.too_many_requests)
      gate.on_rate_limited(granted_at);
    else if (result.ok())
      gate.on_accepted();
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
      if (progress)
        progress->wait_begun(ctx.rc.name, steady::now() + decision.wait, verdict.rate_limited);
      co_await sleep_for(decision.wait);
      if (progress) progress->wait_ended(ctx.rc.name);
      continue;
    }
    fr.error = fmt::format("{}: {} {} failed: {}{}", ctx.rc.name, to_string(request.method),
                           shown(target), verdict.message,
                           renewed_after_401 && unauthorized(attempt.outcome)
                               ? " (with an OAuth2 token fetched after the 401 before; check "
                                 "the client's permissions)"
                               : "");
    co_return fr;
  }
}

asio::awaitable<void> engine::impl::commit(run_context& ctx, std::shared_ptr<page> data,
                                           std::int64_t position, std::string where,
                                           std::vector<char> skip,
                                           std::optional<std::string> cursor) {
  if (ctx.scope && ctx.scope->key_owners) {
    for (const auto* r : data->records()) {
      auto [owner, added] =
          ctx.scope->key_owners->emplace(db::record_key(*r, ctx.rc.primary_key), ctx.scope->label);
      if (added || owner->second == ctx.scope->label) continue;
      const auto& p = *ctx.rc.parent;
      ctx.fail(fmt::format(
          "{}: the record with key {} came from {} and from {}, and primary_key [{}] would "
          "merge them onto one row; nothing of {} was stored. Add the parent's column: "
          "`primary_key: [{}, {}]`",
          ctx.rc.name, owner->first, owner->second, ctx.scope->label,
          fmt::join(ctx.rc.primary_key, ", "), where, fmt::join(ctx.rc.primary_key, ", "),
          p.key_columns().front()));
      co_return;
    }
  }
  const auto records = static_cast<std::int64_t>(data->records().size());
  const auto total = data->total();
  ++ctx.out.counts.pages;
  ctx.out.counts.records += records;
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
    if (progress) progress->page_stored(ctx.rc.name, records, total);
  } catch (const std::exception& e) {
    ctx.fail(fmt::format("{}: storing {} failed: {}", ctx.rc.name, where, e.what()));
  }
}

}  // namespace restsync::sync

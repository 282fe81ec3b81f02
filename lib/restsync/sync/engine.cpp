#include "restsync/sync/engine.hpp"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "restsync/auth.hpp"
#include "restsync/net/http_client.hpp"
#include "restsync/offset_scan.hpp"
#include "restsync/page.hpp"
#include "restsync/retry_policy.hpp"
#include "restsync/sync/gate_driver.hpp"
#include "restsync/url.hpp"

namespace restsync::sync {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

namespace {

transport_error to_retry_error(net::transport_error_kind k) {
  switch (k) {
    case net::transport_error_kind::connect_failed: return transport_error::connect_failed;
    case net::transport_error_kind::timeout: return transport_error::timeout;
    case net::transport_error_kind::truncated: return transport_error::truncated_body;
    case net::transport_error_kind::tls: return transport_error::tls_error;
    case net::transport_error_kind::reset:
    case net::transport_error_kind::body_too_large:
    case net::transport_error_kind::protocol: return transport_error::reset;
  }
  return transport_error::reset;
}

retry_settings retry_settings_for(const error_handler_config& h) {
  retry_settings s;
  s.retry_on_status_codes = h.retry_on_status_codes;
  s.max_retries = h.max_retries;
  s.backoff_factor = h.backoff_factor;
  s.max_backoff = h.max_backoff;
  s.max_rate_limit_retries = h.max_rate_limit_retries;
  s.max_retry_after = h.max_retry_after;
  s.min_rate_limit_wait = h.min_rate_limit_wait;
  return s;
}

std::string dotted(const std::optional<json_path>& p) {
  return p ? to_string(*p) : std::string{};
}

page_spec spec_for(const endpoint_config& e) {
  std::string total, next;
  std::visit(
      [&](const auto& p) {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, offset_paginator> ||
                      std::is_same_v<P, page_number_paginator>)
          total = dotted(p.total_path);
        else if constexpr (std::is_same_v<P, cursor_paginator>)
          next = to_string(p.cursor_path);
        else if constexpr (std::is_same_v<P, json_link_paginator>)
          next = to_string(p.next_url_path);
      },
      e.paginator);
  return page_spec(e.data_selector.empty() ? "$" : to_string(e.data_selector), total, next);
}

asio::awaitable<void> sleep_for(milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

rate_gate_settings gate_settings(const rate_limit_config& r) {
  rate_gate_settings s;
  s.requests_per_second = r.requests_per_second;
  if (r.burst) s.burst = static_cast<double>(*r.burst);
  return s;
}

double seconds_since(steady::time_point t) {
  return std::chrono::duration<double>(steady::now() - t).count();
}

// The path and query of a target, for messages: never the origin's secrets
// (the logger masks an API key sent as a query parameter).
std::string path_of(const std::string& target) { return target; }

}  // namespace

struct fetch_result {
  std::shared_ptr<page> data;
  std::optional<std::string> link;
  std::string error;       // set when data is null and not withdrawn
  bool withdrawn = false;  // not sent: no longer needed once the gate let it through
};

// Everything one run of one resource needs, alive for the run.
struct run_context {
  const resource_config& rc;
  std::size_t index;
  net::http_client* client;
  std::string base_target;  // origin-relative path with the endpoint's params
  net::header_list headers;
  page_spec spec;
  retry_policy policy;
  std::int64_t run_id = 0;
  resource_outcome out;
  bool failed = false;
  // Issue no more requests: a failure, or a singleton answered the scan.
  bool stop = false;

  void fail(std::string message) {
    if (!failed) out.error = std::move(message);
    failed = true;
    stop = true;
  }
};

struct engine::impl {
  asio::any_io_executor ex;
  const config& cfg;
  db::store& store;
  logger& log;
  gate_driver gate;
  std::map<std::string, std::unique_ptr<net::http_client>> clients;
  std::map<std::string, std::size_t> resource_index;
  std::mt19937_64 rng{std::random_device{}()};
  request_credentials creds;

  impl(asio::any_io_executor e, const config& c, db::store& s, logger& l)
      : ex(e),
        cfg(c),
        store(s),
        log(l),
        gate(e, gate_settings(c.client.rate_limit)),
        creds(credentials_for(c.client.auth)) {
    for (std::size_t i = 0; i < c.resources.size(); ++i) resource_index[c.resources[i].name] = i;
  }

  net::http_client& client_for(const url& u) {
    auto& slot = clients[u.origin()];
    if (!slot) {
      net::http_settings s;
      s.connect_timeout = cfg.client.timeout.connect;
      s.read_timeout = cfg.client.timeout.read;
      s.max_body_bytes = static_cast<std::size_t>(cfg.client.max_body_bytes);
      s.tls_verify = cfg.client.tls.verify;
      s.ca_file = cfg.client.tls.ca_file;
      s.max_idle_connections = static_cast<std::size_t>(
          std::max(4, cfg.client.max_in_flight * static_cast<int>(cfg.resources.size())));
      slot = std::make_unique<net::http_client>(ex, u, s);
    }
    return *slot;
  }

  double random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

  // One request with the retry policy around it; a page that arrived whole or
  // the reason it could not.
  // still_needed, when given, is asked each time the gate lets the request
  // through; false withdraws it unsent.
  asio::awaitable<fetch_result> fetch(run_context& ctx, std::string target,
                                      std::function<bool()> still_needed) {
    retry_counts used;
    for (;;) {
      co_await gate.acquire(ctx.index);
      if (still_needed && !still_needed()) {
        gate.refund();
        fetch_result withdrawn;
        withdrawn.withdrawn = true;
        co_return withdrawn;
      }
      ++ctx.out.requests;
      auto started = steady::now();
      auto result = co_await ctx.client->get(target, ctx.headers);
      attempt_outcome outcome;
      fetch_result fr;
      std::string server_message;
      if (!result.ok()) {
        outcome = attempt_outcome::transport_failure(to_retry_error(result.error));
        server_message = result.error_message;
      } else {
        auto& res = *result.response;
        if (res.status >= 200 && res.status < 300) {
          auto parsed = page::read(std::move(res.body), ctx.spec);
          if (auto* p = std::get_if<page>(&parsed)) {
            fr.data = std::make_shared<page>(std::move(*p));
            fr.link = std::move(res.link);
            log.debug("page", {{"resource", ctx.rc.name},
                               {"path", path_of(target)},
                               {"rows", fr.data->records().size()},
                               {"ms", std::chrono::duration_cast<milliseconds>(
                                          steady::now() - started)
                                          .count()}});
            co_return fr;
          }
          auto& err = std::get<page_error>(parsed);
          if (err.what == page_error::kind::malformed) {
            outcome = attempt_outcome::malformed_json(res.status);
          } else if (err.what == page_error::kind::api_errors) {
            std::optional<int> code;
            if (!err.api_errors.empty()) {
              try {
                code = std::stoi(err.api_errors.front().code);
              } catch (...) {
              }
            }
            outcome = attempt_outcome::errors_in_body(res.status, code, err.message);
          } else {
            // The body does not have the shape the config describes: retrying
            // cannot help, and reading it any other way could lose records.
            fr.error = fmt::format("{}: {} (path {})", ctx.rc.name, err.message, path_of(target));
            co_return fr;
          }
          server_message = err.message;
        } else {
          outcome = attempt_outcome::http(res.status, res.retry_after);
          // The server's own words, from an `_errors` body when it sent one.
          auto parsed = page::read(res.body, ctx.spec);
          if (auto* err = std::get_if<page_error>(&parsed);
              err && err->what == page_error::kind::api_errors)
            server_message = err->message;
          else
            server_message = res.body.substr(0, 200);
        }
      }
      auto decision = policy_decide(ctx, used, outcome);
      if (decision.pause_all_until) gate.pause_until(*decision.pause_all_until);
      if (decision.action == retry_action::retry) {
        if (outcome.what == attempt_outcome::kind::response && outcome.status == 429)
          ++ctx.out.rate_limited;
        else
          ++ctx.out.retries;
        log.warn("retry", {{"resource", ctx.rc.name},
                           {"path", path_of(target)},
                           {"status", outcome.status},
                           {"reason", decision.reason},
                           {"message", server_message},
                           {"wait_ms", decision.wait.count()}});
        co_await sleep_for(decision.wait);
        continue;
      }
      fr.error = fmt::format("{}: GET {} failed: {}{}{}", ctx.rc.name, path_of(target),
                             decision.reason, server_message.empty() ? "" : ": ", server_message);
      co_return fr;
    }
  }

  retry_decision policy_decide(run_context& ctx, retry_counts& used,
                               const attempt_outcome& outcome) {
    return ctx.policy.decide(used, outcome, std::chrono::system_clock::now(), random01());
  }

  asio::awaitable<void> commit(run_context& ctx, std::shared_ptr<page> data, std::int64_t offset) {
    ++ctx.out.pages;
    ctx.out.records += static_cast<std::int64_t>(data->records().size());
    try {
      // Named, not a braced temporary: GCC 12 destroys temporaries in a
      // co_await expression twice.
      db::page_write w{ctx.rc.name, ctx.run_id, std::move(data), offset};
      auto counts = co_await store.write(std::move(w));
      ctx.out.inserted += counts.inserted;
      ctx.out.updated += counts.updated;
      ctx.out.unchanged += counts.unchanged;
    } catch (const std::exception& e) {
      ctx.fail(fmt::format("{}: storing the page at offset {} failed: {}", ctx.rc.name, offset,
                           e.what()));
    }
  }

  // Offset paging: a window of concurrent requests driven by offset_scan.
  struct offset_run {
    offset_scan scan;
    int tasks = 0;
    asio::steady_timer wake;
  };

  asio::awaitable<void> offset_task(run_context& ctx, offset_run& run, std::int64_t offset,
                                    const offset_paginator& p) {
    try {
      auto target = append_query(ctx.base_target, {{p.limit_param, std::to_string(p.limit)},
                                                   {p.offset_param, std::to_string(offset)}});
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
        } else {
          run.scan.on_page(offset, n, r.data->total());
          // Its window slot is free: the next request need not wait for this
          // commit. The task still counts until committed, bounding the pages held.
          run.wake.cancel();
        }
        if (n > 0) co_await commit(ctx, r.data, offset);
      }
    } catch (const std::exception& e) {
      ctx.fail(fmt::format("{}: internal error at offset {}: {}", ctx.rc.name, offset, e.what()));
    }
    --run.tasks;
    run.wake.cancel();
  }

  asio::awaitable<void> page_offsets(run_context& ctx, const offset_paginator& p) {
    offset_scan_settings s;
    s.start = p.offset;
    s.limit = p.limit;
    s.window = static_cast<std::size_t>(std::max(1, cfg.client.max_in_flight));
    s.maximum_offset = p.maximum_offset;
    offset_run run{offset_scan(s), 0, asio::steady_timer(ex)};
    const int max_tasks = 2 * static_cast<int>(s.window);
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
    if (!ctx.failed && !ctx.out.complete_scan) {
      if (run.scan.complete())
        ctx.out.complete_scan = true;
      else
        ctx.fail(ctx.rc.name + ": paging stopped before the end without an error (internal)");
    }
    if (run.scan.drift().any())
      log.warn("offset_drift", {{"resource", ctx.rc.name},
                                {"total_changed", run.scan.drift().total_changed},
                                {"records_past_total", run.scan.drift().records_past_total},
                                {"empty_below_total", run.scan.drift().empty_below_total}});
  }

  // The paginators that learn the next request from the previous answer.
  asio::awaitable<void> page_sequential(run_context& ctx) {
    const auto& pag = ctx.rc.endpoint.paginator;
    std::string target = ctx.base_target;
    std::int64_t page_no = 0;
    if (auto* p = std::get_if<page_number_paginator>(&pag)) {
      page_no = p->page;
      target = append_query(ctx.base_target, {{p->page_param, std::to_string(page_no)}});
    }
    std::set<std::string> seen;
    for (std::int64_t n_page = 0; !ctx.stop; ++n_page) {
      std::function<bool()> always;
      auto r = co_await fetch(ctx, target, std::move(always));
      if (!r.data) {
        ctx.fail(std::move(r.error));
        break;
      }
      auto n = static_cast<std::int64_t>(r.data->records().size());
      if (n > 0) co_await commit(ctx, r.data, n_page);
      if (ctx.failed) break;
      std::optional<std::string> next;
      if (std::holds_alternative<single_page_paginator>(pag) || r.data->singleton()) {
        // one page is the whole collection
      } else if (auto* p = std::get_if<page_number_paginator>(&pag)) {
        ++page_no;
        bool past_total = r.data->total() && page_no - p->base_page >= *r.data->total();
        bool past_max = p->maximum_page && page_no > *p->maximum_page;
        if (n > 0 && !past_total && !past_max)
          next = append_query(ctx.base_target, {{p->page_param, std::to_string(page_no)}});
      } else if (auto* p = std::get_if<cursor_paginator>(&pag)) {
        if (r.data->next())
          next = append_query(ctx.base_target, {{p->cursor_param, *r.data->next()}});
      } else if (std::holds_alternative<json_link_paginator>(pag) ||
                 std::holds_alternative<header_link_paginator>(pag)) {
        std::optional<std::string> link;
        if (auto* h = std::get_if<header_link_paginator>(&pag)) {
          if (r.link) link = find_link(*r.link, h->links_next_key);
        } else {
          link = r.data->next();
        }
        if (link) {
          auto resolved = resolve_link(ctx, *link);
          if (!resolved) {
            ctx.fail(fmt::format("{}: next link {} points to another origin than {}; refusing to "
                                 "send credentials there",
                                 ctx.rc.name, *link, ctx.client->origin().origin()));
            break;
          }
          next = std::move(*resolved);
        }
      }
      if (!next) {
        ctx.out.complete_scan = true;
        break;
      }
      if (!seen.insert(*next).second) {
        ctx.fail(fmt::format("{}: the API sent the same next page twice ({}); stopping to avoid "
                             "a loop",
                             ctx.rc.name, *next));
        break;
      }
      target = std::move(*next);
    }
  }

  // A next link as an origin-relative target, if it stays on our origin.
  std::optional<std::string> resolve_link(run_context& ctx, const std::string& link) {
    if (!link.empty() && link.front() == '/') return append_query(link, creds.params);
    try {
      auto u = parse_url(link);
      if (u.origin() != ctx.client->origin().origin()) return std::nullopt;
      return append_query(u.target, creds.params);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

  asio::awaitable<resource_outcome> run(const resource_config& rc) {
    auto started = steady::now();
    auto endpoint_url = parse_url(resource_url(cfg.client, rc.endpoint));
    query_params params = rc.endpoint.params;
    params.insert(params.end(), creds.params.begin(), creds.params.end());
    run_context ctx{rc,
                    resource_index.at(rc.name),
                    &client_for(endpoint_url),
                    append_query(endpoint_url.target, params),
                    {},
                    spec_for(rc.endpoint),
                    retry_policy(retry_settings_for(rc.endpoint.error_handler)),
                    0,
                    {},
                    false,
                    false};
    ctx.out.resource = rc.name;
    for (const auto& h : cfg.client.headers) ctx.headers.emplace_back(h.first, h.second);
    for (const auto& h : creds.headers) ctx.headers.push_back(h);

    try {
      db::table_spec spec{rc.name, rc.primary_key};
      co_await store.prepare(std::move(spec));
      ctx.run_id = co_await store.begin_run(rc.name);
    } catch (const std::exception& e) {
      ctx.fail(fmt::format("{}: cannot start the run: {}", rc.name, e.what()));
    }
    if (!ctx.failed) {
      log.info("run_started", {{"resource", rc.name}, {"run", ctx.run_id}});
      if (auto* p = std::get_if<offset_paginator>(&rc.endpoint.paginator))
        co_await page_offsets(ctx, *p);
      else
        co_await page_sequential(ctx);
    }
    ctx.out.ok = !ctx.failed;
    if (ctx.failed) ctx.out.complete_scan = false;
    ctx.out.seconds = seconds_since(started);
    if (ctx.run_id != 0) {
      db::run_summary s;
      s.run_id = ctx.run_id;
      s.resource = rc.name;
      s.status = ctx.failed ? db::run_status::failed : db::run_status::succeeded;
      s.requests = ctx.out.requests;
      s.retries = ctx.out.retries;
      s.rate_limited = ctx.out.rate_limited;
      s.complete_scan = ctx.out.complete_scan;
      s.error = ctx.out.error;
      try {
        co_await store.finish_run(s);
      } catch (const std::exception& e) {
        if (!ctx.failed) ctx.out.error = fmt::format("{}: recording the run failed: {}", rc.name, e.what());
        ctx.out.ok = false;
      }
    }
    log_summary(ctx.out);
    co_return ctx.out;
  }

  void log_summary(const resource_outcome& o) {
    log.log(o.ok ? log_level::info : log_level::error, "summary",
            {{"resource", o.resource},
             {"status", o.ok ? "ok" : "failed"},
             {"pages", o.pages},
             {"records", o.records},
             {"inserted", o.inserted},
             {"updated", o.updated},
             {"unchanged", o.unchanged},
             {"requests", o.requests},
             {"retries", o.retries},
             {"rate_limited", o.rate_limited},
             {"complete", o.complete_scan},
             {"seconds", o.seconds},
             {"error", o.error}});
  }
};

engine::engine(asio::any_io_executor ex, const config& cfg, db::store& store, logger& log)
    : impl_(std::make_unique<impl>(ex, cfg, store, log)) {}

engine::~engine() = default;

asio::awaitable<resource_outcome> engine::run(const resource_config& resource) {
  co_return co_await impl_->run(resource);
}

namespace {

struct all_state {
  std::vector<resource_outcome> outcomes;
  int pending = 0;
  std::unique_ptr<asio::steady_timer> done;
};

asio::awaitable<void> run_one(engine& e, const resource_config* r, all_state& st, std::size_t i) {
  st.outcomes[i] = co_await e.run(*r);
  if (--st.pending == 0) st.done->cancel();
}

}  // namespace

asio::awaitable<std::vector<resource_outcome>> engine::run_all(
    std::vector<const resource_config*> resources) {
  all_state st;
  st.outcomes.resize(resources.size());
  st.pending = static_cast<int>(resources.size());
  st.done = std::make_unique<asio::steady_timer>(impl_->ex, asio::steady_timer::time_point::max());
  for (std::size_t i = 0; i < resources.size(); ++i)
    asio::co_spawn(impl_->ex, run_one(*this, resources[i], st, i), asio::detached);
  while (st.pending > 0) {
    boost::system::error_code ec;
    co_await st.done->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return std::move(st.outcomes);
}

}  // namespace restsync::sync

#include "restsync/sync/token_source.hpp"

#include <fmt/format.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <variant>

#include "restsync/flow/retry_policy.hpp"
#include "restsync/plan/limits.hpp"
#include "restsync/sync/waits.hpp"

namespace restsync::sync {

namespace asio = boost::asio;

token_source::token_source(asio::any_io_executor ex, const auth_config& auth,
                           net::http_client& client, logger& log,
                           std::function<void(const std::string&)> on_token)
    : ex_(std::move(ex)),
      auth_(auth),
      client_(client),
      log_(log),
      on_token_(std::move(on_token)),
      cache_(auth.default_token_expiration) {}

asio::awaitable<token_source::result> token_source::get() {
  if (cache_.usable(token_cache::clock::now())) co_return result{cache_.token(), {}};
  if (!fetching_) {
    fetching_ = true;
    auto r = co_await fetch();
    fetching_ = false;
    ++generation_;
    last_error_ = r.error;
    for (auto& [id, timer] : waiting_) timer->cancel();
    co_return r;
  }
  // A fetch is under way: its outcome is this request's too, even a token
  // that is short-lived, so that no waiter starts a fetch of its own.
  const auto generation = generation_;
  const auto id = next_waiter_++;
  asio::steady_timer wake(ex_, asio::steady_timer::time_point::max());
  waiting_[id] = &wake;
  while (generation_ == generation) {
    boost::system::error_code ec;
    co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  waiting_.erase(id);
  if (!last_error_.empty()) co_return result{{}, last_error_};
  co_return result{cache_.token(), {}};
}

// Retried as an API request with error_handler's defaults would be (5xx,
// 429 and transport errors, with backoff); any other answer fails at once.
asio::awaitable<token_source::result> token_source::fetch() {
  const retry_policy policy{retry_settings{}};
  retry_counts used;
  const url token_url = parse_url(auth_.access_token_url);
  const std::string shown = shown_token_url(auth_.access_token_url);
  for (;;) {
    http_request request;
    request.method = http_method::post;
    request.target = token_url.target;
    request.body = token_request_form(auth_);
    request.content_type = form_content_type;
    // Named, not a braced temporary: GCC 12 destroys temporaries in a
    // co_await expression twice.
    net::header_list no_headers;
    auto r = co_await client_.send(std::move(request), std::move(no_headers));
    attempt_outcome outcome;
    std::string message;
    if (r.ok()) {
      const auto& res = *r.response;
      if (res.status >= 200 && res.status < 300) {
        auto read = read_token_response(res.body);
        if (auto* why = std::get_if<std::string>(&read))
          co_return result{{},
                           fmt::format("the OAuth2 token endpoint {} answered {} but {}", shown,
                                       res.status, *why)};
        auto& token = std::get<token_response>(read);
        // Masked before anything could print it.
        if (on_token_) on_token_(token.access_token);
        cache_.store(token, token_cache::clock::now());
        ++fetches_;
        log_.info("token_fetched",
                  {{"url", shown},
                   {"expires_in",
                    std::chrono::duration_cast<std::chrono::seconds>(cache_.lifetime()).count()},
                   {"from", token.expires_in ? "expires_in" : "default_token_expiration"}});
        co_return result{token.access_token, {}};
      }
      outcome = attempt_outcome::http(res.status, res.retry_after);
      message = res.body.substr(0, limits::server_message_bytes);
    } else {
      outcome = attempt_outcome::transport_failure(retry_error_of(r.error));
      message = r.error_message;
    }
    const double random01 = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    auto decision = policy.decide(used, outcome, std::chrono::system_clock::now(), random01);
    if (decision.action == retry_action::retry) {
      log_.warn("token_retry", {{"url", shown},
                                {"status", outcome.status},
                                {"reason", decision.reason},
                                {"message", message},
                                {"wait_ms", decision.wait.count()}});
      co_await sleep_for(decision.wait);
      continue;
    }
    co_return result{{},
                     fmt::format("fetching the OAuth2 token from {} failed: {}{}", shown,
                                 decision.reason, message.empty() ? "" : ": " + message)};
  }
}

}  // namespace restsync::sync

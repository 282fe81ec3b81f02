// The OAuth2 client-credentials token of the engine: fetched from
// access_token_url on first use, shared by every request of every resource,
// renewed shortly before it expires (http/oauth.hpp's renewal_margin) and
// after a 401. One fetch at a time: requests that need a token meanwhile
// wait for that fetch, and share its outcome. Token requests do not pass the
// rate gate (the token endpoint is usually another service, with limits of
// its own, and a fetch an hour is no load), nor the memory budget.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>

#include "restsync/config/config.hpp"
#include "restsync/http/client.hpp"
#include "restsync/http/oauth.hpp"
#include "restsync/observe/log.hpp"

namespace restsync::sync {

class token_source {
 public:
  struct result {
    std::string token;
    std::string error;  // set when there is no token: why the fetch failed
    bool ok() const { return error.empty(); }
  };

  // auth is oauth2_client_credentials and outlives the source; client is
  // the one for access_token_url's origin. on_token is told of every token
  // fetched, before any request carries it (to mask it in messages).
  token_source(boost::asio::any_io_executor ex, const auth_config& auth, net::http_client& client,
               logger& log, std::function<void(const std::string&)> on_token);

  // The token to send now, fetching it first when none is usable.
  boost::asio::awaitable<result> get();
  // Whether the cached token is still good to send now.
  bool usable() const { return cache_.usable(token_cache::clock::now()); }
  // A request sent with token was answered 401: the next get() fetches a
  // new one (unless one was fetched since).
  void reject(const std::string& token) { cache_.reject(token); }
  // Token requests that got an answer with a token.
  std::int64_t fetches() const { return fetches_; }

 private:
  boost::asio::awaitable<result> fetch();

  boost::asio::any_io_executor ex_;
  const auth_config& auth_;
  net::http_client& client_;
  logger& log_;
  std::function<void(const std::string&)> on_token_;
  token_cache cache_;
  std::mt19937_64 rng_{std::random_device{}()};
  bool fetching_ = false;
  // Fetches ended so far, and how the last one ended (empty: a token).
  std::uint64_t generation_ = 0;
  std::string last_error_;
  // Requests waiting for the fetch under way, woken when it ends.
  std::map<std::uint64_t, boost::asio::steady_timer*> waiting_;
  std::uint64_t next_waiter_ = 0;
  std::int64_t fetches_ = 0;
};

}  // namespace restsync::sync

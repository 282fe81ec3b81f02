// What the engine's request loops share (sync/fetch.cpp, sync/token_source.cpp):
// a transport error in the retry policy's terms, and a wait.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "restsync/flow/retry_policy.hpp"
#include "restsync/http/client.hpp"

namespace restsync::sync {

inline transport_error retry_error_of(net::transport_error_kind k) {
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

inline boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await t.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

}  // namespace restsync::sync

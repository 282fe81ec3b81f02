// An HTTP/1.1 client for one origin: keep-alive connections pooled and reused
// across requests, TLS verified by default, every wait bounded by a timeout,
// and a response that did not arrive whole reported as an error, never a body.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "restsync/http/request.hpp"
#include "restsync/http/settings.hpp"
#include "restsync/http/url.hpp"

namespace restsync::net {

enum class transport_error_kind {
  connect_failed,  // resolve or TCP connect failed
  timeout,         // connect, handshake or read did not finish in time
  reset,           // the peer closed or reset the connection mid-exchange
  truncated,       // the body ended before its announced length
  tls,             // handshake failed, certificate or host name not trusted
  body_too_large,  // the body exceeds max_body_bytes
  protocol,        // not a valid HTTP response
};

std::string_view to_string(transport_error_kind kind);

struct http_response {
  int status = 0;
  std::string body;
  std::optional<std::string> retry_after;  // raw Retry-After header value
  std::optional<std::string> link;         // raw Link header value
};

struct http_result {
  std::optional<http_response> response;  // set on success
  transport_error_kind error = transport_error_kind::protocol;
  std::string error_message;  // set when response is empty; names no secrets
  bool ok() const { return response.has_value(); }
};

using header_list = std::vector<std::pair<std::string, std::string>>;

// Called with a response's announced body length (Content-Length) before the
// body is read; the body is read once it resumes. Not called for a body of
// unannounced length (chunked, or up to the connection's end).
using body_admission = std::function<boost::asio::awaitable<void>(std::size_t)>;

class http_client {
 public:
  http_client(boost::asio::any_io_executor ex, url origin, http_settings settings);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Sends request (its target is path and query) with the given extra
  // headers; a body goes with its Content-Type and Content-Length. Never
  // throws for network or protocol trouble: that comes back in http_result.
  // admit, when set, is asked before a body is read (see body_admission);
  // the read timeout starts again after it. sending, when set, is called
  // each time the request is about to be written, once its connection is
  // open (after a connect or TLS handshake, if it needed one). A request
  // whose pooled connection turns out closed before any response byte is
  // sent once more on a new one: a GET, and a POST too, which restsync only
  // sends to queries that read (endpoints configured as resources, a token
  // endpoint).
  boost::asio::awaitable<http_result> send(http_request request, header_list headers,
                                           body_admission admit = {},
                                           std::function<void()> sending = {});

  // Closes idle connections; requests in flight finish or fail on their own.
  void close_idle();

  std::size_t connections_opened() const;
  std::size_t idle_connections() const;

  const url& origin() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace restsync::net

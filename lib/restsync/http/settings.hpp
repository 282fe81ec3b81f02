// How the HTTP client connects and reads: timeouts, body limit, TLS and its
// pool. Plain values, apart from the client so that a plan can hold them.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace restsync::net {

struct http_settings {
  std::chrono::milliseconds connect_timeout{10'000};  // resolve + connect + TLS handshake
  std::chrono::milliseconds read_timeout{60'000};     // request written to response read whole
  std::size_t max_body_bytes = 64u << 20;
  // Status line and headers together; Beast's parser refuses more. 64 KiB is
  // 8x Beast's default and well above what any API's headers reach, yet
  // bounds what a hostile server can make us hold before the body.
  std::size_t max_header_bytes = 64u << 10;
  bool tls_verify = true;
  std::string ca_file;  // empty: the system trust store
  std::string user_agent = "restsync";
  std::size_t max_idle_connections = 16;
};

}  // namespace restsync::net

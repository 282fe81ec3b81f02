#include "server.hpp"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <csignal>
#include <iostream>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace emulator {
namespace {

constexpr auto idle_timeout = std::chrono::minutes(5);
constexpr auto write_timeout = std::chrono::seconds(30);
constexpr auto handshake_timeout = std::chrono::seconds(10);
constexpr auto drip_stall = std::chrono::seconds(60);
constexpr std::uint64_t body_limit = 64 * 1024 * 1024;

class open_connection {
 public:
  explicit open_connection(app* a) : app_(a) { app_->connection_opened(); }
  ~open_connection() { app_->connection_closed(); }
  open_connection(const open_connection&) = delete;
  open_connection& operator=(const open_connection&) = delete;

 private:
  app* app_;
};

tcp::socket& socket_of(beast::tcp_stream& s) { return s.socket(); }
tcp::socket& socket_of(ssl::stream<beast::tcp_stream>& s) { return s.next_layer().socket(); }

// No TLS close_notify on purpose: faults and closes must look like the peer
// went away, and a graceful TLS shutdown could wait on a client that never answers.
void close_socket(tcp::socket& s, bool reset) {
  beast::error_code ec;
  if (reset) {
    s.set_option(asio::socket_base::linger(true, 0), ec);
  } else {
    s.shutdown(tcp::socket::shutdown_send, ec);
  }
  s.close(ec);
}

void log_request(const request_view& req, const reply& r) {
  // Seconds since the first request logged: enough to see a client's pacing.
  static const auto first = std::chrono::steady_clock::now();
  const std::chrono::duration<double> at = std::chrono::steady_clock::now() - first;
  std::string key = req.api_key ? "key" : "no-key";
  std::cerr << fmt::format("{} {} {} {} bytes={}{} at=+{:.3f}s\n", req.method, req.target, key,
                           r.status == 0 ? std::string("reset") : std::to_string(r.status),
                           r.body.size(),
                           r.act == action::truncate ? " truncated"
                           : r.act == action::drip   ? " drip"
                                                     : "",
                           at.count());
}

template <class Stream>
asio::awaitable<void> session(Stream& stream, app* a) {
  beast::flat_buffer buffer;
  auto& lowest = beast::get_lowest_layer(stream);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    lowest.expires_after(idle_timeout);
    co_await http::async_read_header(stream, buffer, parser, asio::use_awaitable);
    auto& req = parser.get();
    // curl holds back a large body for a second unless told to go on.
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      co_await asio::async_write(stream, asio::buffer(go_on), asio::use_awaitable);
    }
    if (!parser.is_done()) co_await http::async_read(stream, buffer, parser, asio::use_awaitable);

    request_view view;
    view.method = req.method_string();
    view.target = req.target();
    view.body = req.body();
    view.keep_alive = req.keep_alive();
    // Under OAuth2 the credential is the Authorization header's bearer token.
    const auto& o = a->opts();
    const std::string_view auth_header =
        o.oauth_client_id.empty() ? std::string_view(o.auth_header) : "Authorization";
    if (auto it = req.find(auth_header); it != req.end()) view.api_key = it->value();

    auto r = a->handle(view, std::chrono::steady_clock::now(), std::chrono::system_clock::now());
    if (a->opts().verbose) log_request(view, r);

    if (r.delay.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor);
      timer.expires_after(r.delay);
      co_await timer.async_wait(asio::use_awaitable);
    }

    lowest.expires_after(write_timeout);
    std::array<asio::const_buffer, 2> whole{asio::buffer(r.head), asio::buffer(r.body)};
    std::array<asio::const_buffer, 2> part{asio::buffer(r.head),
                                           asio::buffer(r.body.data(), r.cut)};
    switch (r.act) {
      case action::send:
        co_await asio::async_write(stream, whole, asio::use_awaitable);
        if (r.close) {
          close_socket(socket_of(stream), false);
          co_return;
        }
        break;
      case action::reset:
        close_socket(socket_of(stream), true);
        co_return;
      case action::truncate:
        co_await asio::async_write(stream, part, asio::use_awaitable);
        close_socket(socket_of(stream), false);
        co_return;
      case action::drip: {
        co_await asio::async_write(stream, part, asio::use_awaitable);
        // Stall until the client gives up (read fails) or the stall ends (timeout).
        lowest.expires_after(drip_stall);
        char sink[512];
        beast::error_code ec;
        while (!ec)
          co_await stream.async_read_some(asio::buffer(sink),
                                          asio::redirect_error(asio::use_awaitable, ec));
        close_socket(socket_of(stream), false);
        co_return;
      }
    }
  }
}

asio::awaitable<void> serve_plain(tcp::socket socket, app* a) {
  open_connection counted(a);
  beast::tcp_stream stream(std::move(socket));
  try {
    co_await session(stream, a);
  } catch (const std::exception&) {
    // The client left, timed out or sent garbage: the connection ends, nothing else.
  }
}

asio::awaitable<void> serve_tls(tcp::socket socket, app* a, ssl::context* tls) {
  open_connection counted(a);
  ssl::stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
  try {
    beast::get_lowest_layer(stream).expires_after(handshake_timeout);
    co_await stream.async_handshake(ssl::stream_base::server, asio::use_awaitable);
    co_await session(stream, a);
  } catch (const std::exception&) {
    // As above; a client that refuses our certificate ends up here too.
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor* acceptor, app* a, ssl::context* tls) {
  auto executor = co_await asio::this_coro::executor;
  for (;;) {
    beast::error_code ec;
    auto socket = co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // Out of descriptors and the like: back off instead of spinning.
      asio::steady_timer pause(executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::use_awaitable);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (tls) {
      asio::co_spawn(executor, serve_tls(std::move(socket), a, tls), asio::detached);
    } else {
      asio::co_spawn(executor, serve_plain(std::move(socket), a), asio::detached);
    }
  }
}

std::optional<tcp::endpoint> listen_endpoint(asio::io_context& io, const options& o) {
  beast::error_code ec;
  auto address = asio::ip::make_address(o.host, ec);
  if (!ec) return tcp::endpoint(address, o.port);
  tcp::resolver resolver(io);
  auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
  if (ec || results.empty()) return std::nullopt;
  return results.begin()->endpoint();
}

}  // namespace

int run_server(app& a) {
  std::signal(SIGPIPE, SIG_IGN);
  auto& o = a.opts();
  asio::io_context io(1);

  std::optional<ssl::context> tls;
  if (!o.tls_cert.empty()) {
    tls.emplace(ssl::context::tls_server);
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3);
    beast::error_code ec;
    tls->use_certificate_chain_file(o.tls_cert, ec);
    if (ec) {
      std::cerr << fmt::format("analytics-emulator: --tls-cert: cannot load '{}': {}\n", o.tls_cert,
                               ec.message());
      return 2;
    }
    tls->use_private_key_file(o.tls_key, ssl::context::pem, ec);
    if (ec) {
      std::cerr << fmt::format("analytics-emulator: --tls-key: cannot load '{}': {}\n", o.tls_key,
                               ec.message());
      return 2;
    }
  }

  auto endpoint = listen_endpoint(io, o);
  if (!endpoint) {
    std::cerr << fmt::format("analytics-emulator: --listen: cannot resolve host '{}'\n", o.host);
    return 2;
  }
  tcp::acceptor acceptor(io);
  beast::error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::cerr << fmt::format("analytics-emulator: --listen: cannot listen on {}:{}: {}\n", o.host,
                             o.port, ec.message());
    return 1;
  }
  auto bound = acceptor.local_endpoint();
  auto host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                      : bound.address().to_string();
  std::cout << "listening " << host << ':' << bound.port() << std::endl;

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](const beast::error_code&, int) { io.stop(); });
  asio::co_spawn(io, accept_loop(&acceptor, &a, tls ? &*tls : nullptr), asio::detached);
  io.run();
  return 0;
}

}  // namespace emulator

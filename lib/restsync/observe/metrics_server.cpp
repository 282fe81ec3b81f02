#include "restsync/observe/metrics_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace restsync::service {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// A scrape is one small request; a client that takes longer than this to
// send it is not Prometheus, and its connection is dropped.
constexpr std::chrono::seconds request_timeout{10};
constexpr std::size_t max_request_bytes = 8 * 1024;
// After an accept error such as EMFILE, a pause instead of a busy loop.
constexpr std::chrono::seconds accept_error_pause{1};

}  // namespace

struct metrics_server::impl {
  asio::any_io_executor ex;
  tcp::acceptor acceptor;
  std::function<std::string()> render;

  impl(asio::any_io_executor e, std::function<std::string()> r)
      : ex(e), acceptor(e), render(std::move(r)) {}

  static asio::awaitable<void> accept_loop(std::shared_ptr<impl> self) {
    for (;;) {
      error_code ec;
      tcp::socket socket =
          co_await self->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (!self->acceptor.is_open() || ec == asio::error::operation_aborted) co_return;
      if (ec) {
        asio::steady_timer pause(self->ex, accept_error_pause);
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      asio::co_spawn(self->ex, serve(self, std::move(socket)), asio::detached);
    }
  }

  static asio::awaitable<void> serve(std::shared_ptr<impl> self, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    // A body is read (and ignored) so that a POST gets its 405, not a reset.
    http::request_parser<http::string_body> parser;
    parser.header_limit(max_request_bytes);
    parser.body_limit(max_request_bytes);
    error_code ec;
    stream.expires_after(request_timeout);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    const auto& req = parser.get();
    http::response<http::string_body> res;
    res.version(req.version());
    res.set(http::field::server, "restsyncd");
    const auto target = std::string_view(req.target().data(), req.target().size());
    const bool metrics_path = target == "/metrics" ||
                              target.substr(0, std::string_view("/metrics?").size()) == "/metrics?";
    if (req.method() != http::verb::get) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET");
      res.body() = "only GET /metrics\n";
    } else if (!metrics_path) {
      res.result(http::status::not_found);
      res.body() = "not found; the metrics are at /metrics\n";
    } else {
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = self->render();
    }
    if (res.result() != http::status::ok)
      res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.keep_alive(false);
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
};

metrics_server::metrics_server(asio::any_io_executor ex, const listen_address& at,
                               std::function<std::string()> render)
    : impl_(std::make_shared<impl>(ex, std::move(render))) {
  const tcp::endpoint ep(asio::ip::make_address(at.host), at.port);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  asio::co_spawn(ex, impl::accept_loop(impl_), asio::detached);
}

metrics_server::~metrics_server() {
  error_code ec;
  impl_->acceptor.close(ec);
}

listen_address metrics_server::local_address() const {
  error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  listen_address a;
  a.host = ep.address().to_string();
  a.port = ep.port();
  return a;
}

}  // namespace restsync::service

#include "canned_server.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>

namespace rs_test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct canned_server::impl {
  explicit impl(std::string b) : body(std::move(b)) {}

  static asio::awaitable<void> accept_loop(impl* self) {
    for (;;) {
      auto socket = co_await self->acceptor.async_accept(asio::use_awaitable);
      asio::co_spawn(self->ioc, serve(self, std::move(socket)), asio::detached);
    }
  }

  static asio::awaitable<void> serve(impl* self, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    try {
      for (bool keep_alive = true; keep_alive;) {
        stream.expires_after(std::chrono::seconds(30));
        http::request<http::string_body> req;
        co_await http::async_read(stream, buffer, req, asio::use_awaitable);
        ++self->requests;
        http::response<http::string_body> res{http::status::ok, req.version()};
        res.set(http::field::content_type, "application/json; charset=utf-8");
        res.keep_alive(req.keep_alive());
        res.body() = self->body;
        res.prepare_payload();
        keep_alive = res.keep_alive();
        co_await http::async_write(stream, res, asio::use_awaitable);
      }
    } catch (const boost::system::system_error&) {
      // The client closed the connection, or went quiet.
    }
  }

  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::string body;
  std::atomic<int> requests{0};
  std::thread thread;
};

canned_server::canned_server(std::string body) : impl_(std::make_unique<impl>(std::move(body))) {
  asio::co_spawn(impl_->ioc, impl::accept_loop(impl_.get()), asio::detached);
  impl_->thread = std::thread([self = impl_.get()] { self->ioc.run(); });
}

canned_server::~canned_server() {
  impl_->ioc.stop();
  impl_->thread.join();
}

std::string canned_server::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->acceptor.local_endpoint().port());
}

int canned_server::requests() const { return impl_->requests; }

}  // namespace rs_test

#include "restsync/net/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace restsync::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

std::string_view to_string(transport_error_kind kind) {
  switch (kind) {
    case transport_error_kind::connect_failed: return "connect_failed";
    case transport_error_kind::timeout: return "timeout";
    case transport_error_kind::reset: return "reset";
    case transport_error_kind::truncated: return "truncated";
    case transport_error_kind::tls: return "tls";
    case transport_error_kind::body_too_large: return "body_too_large";
    case transport_error_kind::protocol: return "protocol";
  }
  return "unknown";
}

namespace {

struct connection {
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*secure); }
};

http_result failure(transport_error_kind kind, std::string message) {
  http_result r;
  r.error = kind;
  r.error_message = std::move(message);
  return r;
}

bool is_connection_end(const error_code& ec) {
  return ec == asio::error::eof || ec == http::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

transport_error_kind classify_read_error(const error_code& ec, bool got_some) {
  if (ec == beast::error::timeout) return transport_error_kind::timeout;
  if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
    return transport_error_kind::body_too_large;
  if (ec == http::error::partial_message) return transport_error_kind::truncated;
  if (is_connection_end(ec))
    return got_some ? transport_error_kind::truncated : transport_error_kind::reset;
  if (ec.category() == http::make_error_code(http::error::bad_target).category())
    return transport_error_kind::protocol;  // any other parser complaint
  return transport_error_kind::reset;
}

std::string verify_failure_text(SSL* ssl_handle) {
  long result = SSL_get_verify_result(ssl_handle);
  if (result == X509_V_OK) return {};
  return X509_verify_cert_error_string(result);
}

}  // namespace

struct http_client::impl {
  asio::any_io_executor ex;
  url origin;
  http_settings settings;
  ssl::context tls_ctx{ssl::context::tls_client};
  std::vector<std::unique_ptr<connection>> idle;
  std::size_t opened = 0;

  impl(asio::any_io_executor e, url o, http_settings s)
      : ex(std::move(e)), origin(std::move(o)), settings(std::move(s)) {
    tls_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                        ssl::context::no_tlsv1_1);
    if (settings.tls_verify) {
      tls_ctx.set_verify_mode(ssl::verify_peer);
      if (settings.ca_file.empty())
        tls_ctx.set_default_verify_paths();
      else
        tls_ctx.load_verify_file(settings.ca_file);
    } else {
      tls_ctx.set_verify_mode(ssl::verify_none);
    }
  }

  asio::awaitable<std::unique_ptr<connection>> connect(http_result& err) {
    error_code ec;
    tcp::resolver resolver(ex);
    auto endpoints = co_await resolver.async_resolve(origin.host, std::to_string(origin.port),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      err = failure(transport_error_kind::connect_failed,
                    "cannot resolve " + origin.host + ": " + ec.message());
      co_return nullptr;
    }
    auto conn = std::make_unique<connection>();
    if (origin.tls())
      conn->secure.emplace(ex, tls_ctx);
    else
      conn->plain.emplace(ex);
    auto& tcp_layer = conn->lowest();
    tcp_layer.expires_after(settings.connect_timeout);
    co_await tcp_layer.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      err = failure(ec == beast::error::timeout ? transport_error_kind::timeout
                                                : transport_error_kind::connect_failed,
                    "cannot connect to " + origin.host_header() + ": " + ec.message());
      co_return nullptr;
    }
    tcp_layer.socket().set_option(tcp::no_delay(true), ec);
    if (conn->secure) {
      SSL* handle = conn->secure->native_handle();
      // SNI must not carry an IP literal (RFC 6066).
      error_code addr_ec;
      asio::ip::make_address(origin.host, addr_ec);
      if (addr_ec && !SSL_set_tlsext_host_name(handle, origin.host.c_str())) {
        err = failure(transport_error_kind::tls, "cannot set TLS server name");
        co_return nullptr;
      }
      if (settings.tls_verify)
        conn->secure->set_verify_callback(ssl::host_name_verification(origin.host));
      co_await conn->secure->async_handshake(ssl::stream_base::client,
                                             asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        std::string why = verify_failure_text(handle);
        if (why.empty()) why = ec.message();
        err = failure(ec == beast::error::timeout ? transport_error_kind::timeout
                                                  : transport_error_kind::tls,
                      "TLS handshake with " + origin.host_header() + " failed: " + why);
        co_return nullptr;
      }
    }
    ++opened;
    co_return conn;
  }

  template <class Stream>
  asio::awaitable<http_result> exchange_on(Stream& stream, connection& conn,
                                           http::request<http::empty_body>& req, bool& keep,
                                           bool& stale, const body_admission& admit) {
    error_code ec;
    conn.lowest().expires_after(settings.read_timeout);
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      stale = is_connection_end(ec);
      co_return failure(ec == beast::error::timeout ? transport_error_kind::timeout
                                                    : transport_error_kind::reset,
                        "sending the request failed: " + ec.message());
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(settings.max_body_bytes);
    parser.header_limit(64 * 1024);
    // The header first: a body's length is known before it is held.
    co_await http::async_read_header(stream, conn.buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && !parser.is_done()) {
      if (auto length = parser.content_length(); admit && length && *length > 0) {
        co_await admit(static_cast<std::size_t>(*length));
        conn.lowest().expires_after(settings.read_timeout);
      }
      co_await http::async_read(stream, conn.buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      bool got_some = parser.got_some();
      stale = !got_some && is_connection_end(ec);
      auto kind = classify_read_error(ec, got_some);
      std::string msg;
      if (kind == transport_error_kind::body_too_large)
        msg = "response body exceeds the limit of " + std::to_string(settings.max_body_bytes) +
              " bytes";
      else if (kind == transport_error_kind::truncated)
        msg = "response ended before the whole body arrived (" + ec.message() + ")";
      else if (kind == transport_error_kind::timeout)
        msg = "no complete response within " + std::to_string(settings.read_timeout.count()) +
              " ms";
      else
        msg = "reading the response failed: " + ec.message();
      co_return failure(kind, std::move(msg));
    }
    auto& res = parser.get();
    keep = res.keep_alive();
    http_result out;
    out.response.emplace();
    out.response->status = static_cast<int>(res.result_int());
    if (auto it = res.find(http::field::retry_after); it != res.end())
      out.response->retry_after = std::string(it->value());
    if (auto it = res.find(http::field::link); it != res.end())
      out.response->link = std::string(it->value());
    out.response->body = std::move(res.body());
    co_return out;
  }

  asio::awaitable<http_result> exchange(connection& conn, http::request<http::empty_body>& req,
                                        bool& keep, bool& stale, const body_admission& admit) {
    if (conn.secure) co_return co_await exchange_on(*conn.secure, conn, req, keep, stale, admit);
    co_return co_await exchange_on(*conn.plain, conn, req, keep, stale, admit);
  }
};

http_client::http_client(asio::any_io_executor ex, url origin, http_settings settings)
    : impl_(std::make_unique<impl>(std::move(ex), std::move(origin), std::move(settings))) {}

http_client::~http_client() = default;

asio::awaitable<http_result> http_client::get(std::string target, header_list headers,
                                              body_admission admit) {
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, impl_->origin.host_header());
  req.set(http::field::user_agent, impl_->settings.user_agent);
  req.set(http::field::accept, "application/json");
  for (auto& [name, value] : headers) req.set(name, value);
  req.keep_alive(true);

  // A pooled connection may have been closed by the server while idle; a GET
  // that failed before any response byte is safe to send once more on a new one.
  for (int round = 0;; ++round) {
    std::unique_ptr<connection> conn;
    bool reused = false;
    if (round == 0 && !impl_->idle.empty()) {
      conn = std::move(impl_->idle.back());
      impl_->idle.pop_back();
      reused = true;
    } else {
      http_result err;
      conn = co_await impl_->connect(err);
      if (!conn) co_return err;
    }
    bool keep = false, stale = false;
    auto result = co_await impl_->exchange(*conn, req, keep, stale, admit);
    if (result.ok()) {
      if (keep && impl_->idle.size() < impl_->settings.max_idle_connections)
        impl_->idle.push_back(std::move(conn));
      co_return result;
    }
    if (!(reused && stale)) co_return result;
  }
}

void http_client::close_idle() { impl_->idle.clear(); }
std::size_t http_client::connections_opened() const { return impl_->opened; }
std::size_t http_client::idle_connections() const { return impl_->idle.size(); }
const url& http_client::origin() const { return impl_->origin; }

}  // namespace restsync::net

#include "restsync/http/client.hpp"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdint>

namespace restsync::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

std::string_view to_string(transport_error_kind kind) {
  switch (kind) {
    case transport_error_kind::connect_failed:
      return "connect_failed";
    case transport_error_kind::timeout:
      return "timeout";
    case transport_error_kind::reset:
      return "reset";
    case transport_error_kind::truncated:
      return "truncated";
    case transport_error_kind::tls:
      return "tls";
    case transport_error_kind::body_too_large:
      return "body_too_large";
    case transport_error_kind::protocol:
      return "protocol";
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

// A DNS name is at most 255 bytes (RFC 1035); a longer certificate name is
// cut there for messages.
constexpr std::size_t max_name_bytes = 255;

// A name from a certificate as UTF-8, its control characters (a NUL, too,
// which PostgreSQL text refuses) as `?`, and no longer than a host name.
std::string asn1_text(const ASN1_STRING* s) {
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return "?";
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  if (out.size() > max_name_bytes) {
    std::size_t cut = max_name_bytes;  // not inside a character
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;
    out.resize(cut);
  }
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

std::string ip_text(const ASN1_OCTET_STRING* s) {
  char buf[INET6_ADDRSTRLEN] = "?";
  const int n = ASN1_STRING_length(s);
  if (n == 4 || n == 16)
    inet_ntop(n == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), buf, sizeof buf);
  return buf;
}

// The names a certificate is for, as a host name check reads them: its
// subjectAltName DNS and IP entries, else its subject's CN. At most a few:
// the text ends up in logs and in the database.
std::string certificate_names(X509* cert) {
  constexpr std::size_t shown = 8;
  std::vector<std::string> names;
  auto* alt =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; alt && i < sk_GENERAL_NAME_num(alt); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(alt, i);
    if (n->type == GEN_DNS) names.push_back("DNS:" + asn1_text(n->d.dNSName));
    if (n->type == GEN_IPADD) names.push_back("IP:" + ip_text(n->d.iPAddress));
  }
  GENERAL_NAMES_free(alt);
  if (names.empty()) {
    const X509_NAME* subject = X509_get_subject_name(cert);
    for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;)
      names.push_back("CN=" + asn1_text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i))));
  }
  if (names.empty()) return "no name";
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
  return out;
}

// Why the server's certificate was refused, empty when it was not. A host
// name mismatch says which name was asked for and which the certificate
// has (peer_names: OpenSSL keeps no certificate it refused).
std::string verify_failure_text(SSL* ssl_handle, const std::string& host,
                                const std::string& peer_names) {
  long result = SSL_get_verify_result(ssl_handle);
  if (result == X509_V_OK) return {};
  if (result == X509_V_ERR_HOSTNAME_MISMATCH || result == X509_V_ERR_IP_ADDRESS_MISMATCH)
    return "host name mismatch: asked for " + host + ", the certificate is for " + peer_names;
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
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
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
      // OpenSSL checks the name itself, so that a mismatch has its own
      // verify result rather than an unspecified one.
      auto peer_names = std::make_shared<std::string>();
      if (settings.tls_verify) {
        const bool set =
            addr_ec ? SSL_set1_host(handle, origin.host.c_str())
                    : X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), origin.host.c_str());
        if (!set) {
          err = failure(transport_error_kind::tls, "cannot set the TLS host name to check");
          co_return nullptr;
        }
        conn->secure->set_verify_callback([peer_names](bool preverified, ssl::verify_context& v) {
          X509_STORE_CTX* store = v.native_handle();
          X509* cert = X509_STORE_CTX_get_current_cert(store);
          if (cert && X509_STORE_CTX_get_error_depth(store) == 0)
            *peer_names = certificate_names(cert);
          return preverified;
        });
      }
      co_await conn->secure->async_handshake(ssl::stream_base::client,
                                             asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        std::string why = verify_failure_text(handle, origin.host, *peer_names);
        if (why.empty()) why = ec.message();
        err = failure(
            ec == beast::error::timeout ? transport_error_kind::timeout : transport_error_kind::tls,
            "TLS handshake with " + origin.host_header() + " failed: " + why);
        co_return nullptr;
      }
    }
    ++opened;
    co_return conn;
  }

  template <class Stream>
  asio::awaitable<http_result> exchange_on(Stream& stream, connection& conn,
                                           http::request<http::string_body>& req, bool& keep,
                                           bool& stale, const body_admission& admit) {
    error_code ec;
    conn.lowest().expires_after(settings.read_timeout);
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      stale = is_connection_end(ec);
      co_return failure(
          ec == beast::error::timeout ? transport_error_kind::timeout : transport_error_kind::reset,
          "sending the request failed: " + ec.message());
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(settings.max_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(settings.max_header_bytes));
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
        msg =
            "no complete response within " + std::to_string(settings.read_timeout.count()) + " ms";
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

  asio::awaitable<http_result> exchange(connection& conn, http::request<http::string_body>& req,
                                        bool& keep, bool& stale, const body_admission& admit) {
    if (conn.secure) co_return co_await exchange_on(*conn.secure, conn, req, keep, stale, admit);
    co_return co_await exchange_on(*conn.plain, conn, req, keep, stale, admit);
  }
};

http_client::http_client(asio::any_io_executor ex, url origin, http_settings settings)
    : impl_(std::make_unique<impl>(std::move(ex), std::move(origin), std::move(settings))) {}

http_client::~http_client() = default;

asio::awaitable<http_result> http_client::send(http_request request, header_list headers,
                                               body_admission admit,
                                               std::function<void()> sending) {
  const auto verb = request.method == http_method::post ? http::verb::post : http::verb::get;
  http::request<http::string_body> req{verb, request.target, 11};
  req.set(http::field::host, impl_->origin.host_header());
  req.set(http::field::user_agent, impl_->settings.user_agent);
  req.set(http::field::accept, "application/json");
  for (auto& [name, value] : headers) req.set(name, value);
  if (request.body) {
    req.set(http::field::content_type, request.content_type);
    req.body() = std::move(*request.body);
  }
  // Content-Length always, 0 for a POST without a body (servers may refuse
  // a POST without a length); none for a GET without one.
  if (request.body || verb == http::verb::post) req.prepare_payload();
  req.keep_alive(true);

  // A pooled connection may have been closed by the server while idle; a
  // request that failed before any response byte is safe to send once more
  // on a new one (see send).
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
    if (sending) sending();
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

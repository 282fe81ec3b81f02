// The tests' blocking HTTP(S) client: one request per connection, every
// transport failure reported as an exception so tests can assert on it.
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <stdexcept>

#include "support.hpp"

namespace rs_test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct request_spec {
  endpoint ep;
  std::string method, target, body;
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds timeout;
};

http::request<http::string_body> make_request(const request_spec& spec) {
  http::request<http::string_body> req{http::string_to_verb(spec.method), spec.target, 11};
  req.set(http::field::host, spec.ep.host + ":" + std::to_string(spec.ep.port));
  req.set(http::field::user_agent, "restsync-tests");
  for (const auto& [name, value] : spec.headers) req.set(name, value);
  if (!spec.body.empty() || spec.method == "POST") {
    req.body() = spec.body;
    req.prepare_payload();
  }
  return req;
}

http_response to_response(http::response<http::string_body>& res) {
  http_response out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers[name] = std::string(field.value());
  }
  out.body = std::move(res.body());
  return out;
}

template <class Stream>
asio::awaitable<http_response> exchange(Stream& stream, request_spec spec) {
  auto req = make_request(spec);
  co_await http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(512u * 1024 * 1024);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  co_return to_response(parser.get());
}

asio::awaitable<http_response> run_plain(request_spec spec) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  beast::tcp_stream stream(ex);
  stream.expires_after(spec.timeout);
  auto results = co_await resolver.async_resolve(spec.ep.host, std::to_string(spec.ep.port),
                                                 asio::use_awaitable);
  co_await stream.async_connect(results, asio::use_awaitable);
  stream.expires_after(spec.timeout);
  co_return co_await exchange(stream, spec);
}

asio::awaitable<http_response> run_tls(request_spec spec) {
  auto ex = co_await asio::this_coro::executor;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  const std::string name = spec.ep.server_name.empty() ? spec.ep.host : spec.ep.server_name;
  if (spec.ep.verify) {
    ctx.set_verify_mode(asio::ssl::verify_peer);
    if (spec.ep.ca_file.empty())
      ctx.set_default_verify_paths();
    else
      ctx.load_verify_file(spec.ep.ca_file);
    ctx.set_verify_callback(asio::ssl::host_name_verification(name));
  } else {
    ctx.set_verify_mode(asio::ssl::verify_none);
  }

  tcp::resolver resolver(ex);
  beast::ssl_stream<beast::tcp_stream> stream(ex, ctx);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), name.c_str()))
    throw std::runtime_error("cannot set SNI");
  beast::get_lowest_layer(stream).expires_after(spec.timeout);
  auto results = co_await resolver.async_resolve(spec.ep.host, std::to_string(spec.ep.port),
                                                 asio::use_awaitable);
  co_await beast::get_lowest_layer(stream).async_connect(results, asio::use_awaitable);
  co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
  beast::get_lowest_layer(stream).expires_after(spec.timeout);
  co_return co_await exchange(stream, spec);
}

}  // namespace

http_response http_request(const endpoint& ep, const std::string& method, const std::string& target,
                           const std::map<std::string, std::string>& headers,
                           const std::string& body, std::chrono::milliseconds timeout) {
  request_spec spec{ep, method, target, body, headers, timeout};
  asio::io_context ioc;
  auto fut = asio::co_spawn(ioc, ep.tls ? run_tls(std::move(spec)) : run_plain(std::move(spec)),
                            asio::use_future);
  ioc.run();
  try {
    return fut.get();
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(method + " " + target + ": " + e.code().message() + " (" +
                             e.code().category().name() + ")");
  }
}

}  // namespace rs_test

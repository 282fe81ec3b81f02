// Everything the emulator decides about a request, without sockets or timers:
// the server hands a parsed request in and performs the reply it gets back.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "data_set.hpp"
#include "rate_limiter.hpp"
#include "settings.hpp"
#include "stats.hpp"

namespace emulator {

struct request_view {
  std::string_view method;
  std::string_view target;
  // The auth header's value, if sent; under OAuth2 (--oauth-client-id) the
  // Authorization header's.
  std::optional<std::string_view> api_key;
  std::string_view body;
  bool keep_alive = true;
};

enum class action {
  send,      // head and body, then keep the connection unless close
  reset,     // nothing; close with an RST
  truncate,  // head and body[0, cut), then close
  drip,      // head and body[0, cut), then stall until the client leaves or 60 s pass
};

struct reply {
  action act = action::send;
  int status = 200;  // 0 when nothing is sent
  std::string head;  // status line and headers, ending in an empty line
  std::string body;
  std::size_t cut = 0;
  std::chrono::milliseconds delay{0};
  bool close = false;
};

class app {
 public:
  using clock = std::chrono::steady_clock;

  app(options opts, data_set data);

  const options& opts() const { return opts_; }
  reply handle(const request_view& req, clock::time_point now,
               std::chrono::system_clock::time_point wall);
  void connection_opened() { stats_.connection_opened(); }
  void connection_closed() { stats_.connection_closed(); }

 private:
  reply api(const request_view& req, std::string_view path, std::string_view query,
            clock::time_point now, std::chrono::system_clock::time_point wall);
  reply control(const request_view& req, std::string_view path);
  reply rate_limited(clock::duration wait, std::chrono::system_clock::time_point wall, bool close);
  reply page(data_set& data, std::size_t resource, std::string_view query, bool close);
  // The records of an account the key sees: `current`, or a listed
  // account's id (the key's own account is the first listed); null for an
  // id no account has now. Other accounts' records are made on first use,
  // from the seed and the id.
  data_set* account_data(std::string_view id);
  // POST …/search/<resource>: the list's page that the JSON body asks for.
  reply search(std::size_t resource, std::string_view body, bool close);
  // POST /oauth/token: a bearer token for the configured client credentials.
  reply token_endpoint(const request_view& req, clock::time_point now);
  // Whether an API request's Authorization header carries a token that is
  // good now; counts the use.
  bool token_accepted(std::string_view authorization, clock::time_point now);
  bool oauth() const { return !opts_.oauth_client_id.empty(); }
  reply apply_config(std::string_view body, bool close);
  std::string config_json() const;

  options opts_;
  data_set data_;
  std::string own_account_;  // the key's own account: `current`
  std::map<std::string, std::unique_ptr<data_set>, std::less<>> other_accounts_;
  token_bucket bucket_;
  stats stats_;
  std::uint64_t api_requests_ = 0;
  std::uint64_t empty_pages_ = 0;
  std::uint64_t retry_afters_ = 0;
  struct issued_token {
    clock::time_point expires;
    std::uint64_t uses = 0;
  };
  std::map<std::string, issued_token, std::less<>> tokens_;
  std::uint64_t tokens_issued_ = 0;
};

// An IMF-fixdate, as HTTP dates are written: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::chrono::system_clock::time_point t);

}  // namespace emulator

// OAuth2 client credentials (dlt's OAuth2ClientCredentials), the parts with
// no I/O: the token request's form, the token endpoint's answer read, and
// when a cached token is used or renewed. http/token_source.hpp drives them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "restsync/config/config.hpp"

namespace restsync {

// The form posted to access_token_url, as dlt posts it: client_id,
// client_secret, grant_type=client_credentials, then
// access_token_request_data (a field of the same name replaces one of those).
std::string token_request_form(const auth_config& auth);

// access_token_url as messages show it: without its query, where secrets may sit.
std::string shown_token_url(std::string_view url);

struct token_response {
  std::string access_token;
  std::optional<std::chrono::seconds> expires_in;  // absent: default_token_expiration
};

// A 2xx answer of the token endpoint: a JSON object with a non-empty string
// `access_token` and, optionally, `expires_in` (seconds, a number or a string
// of digits). The message, naming what is wrong, otherwise; it never quotes
// the body, which holds the token.
std::variant<token_response, std::string> read_token_response(std::string_view body);

// How long before its expiry a token is renewed: 60 s, or a tenth of its
// lifetime when that is shorter (a token of 10 min or less), so that a
// request that picked it up still arrives before it expires.
std::chrono::milliseconds renewal_margin(std::chrono::milliseconds lifetime);

// The cached token: whether it may be used, until when, and what a 401 does
// to it. Pure: the time comes in.
class token_cache {
 public:
  using clock = std::chrono::steady_clock;

  explicit token_cache(std::chrono::milliseconds default_lifetime)
      : default_lifetime_(default_lifetime) {}

  // A token is cached, not rejected, and now is before its renewal time.
  bool usable(clock::time_point now) const { return !token_.empty() && now < renew_at_; }
  const std::string& token() const { return token_; }

  // A token fetched at now, valid for expires_in (absent: the default).
  void store(const token_response& r, clock::time_point now);
  // A request sent with token was answered 401: unless a newer token is
  // cached already, the next request fetches one.
  void reject(const std::string& token);

  // The lifetime of the cached token, as stored.
  std::chrono::milliseconds lifetime() const { return lifetime_; }

 private:
  std::chrono::milliseconds default_lifetime_;
  std::string token_;
  clock::time_point renew_at_{};
  std::chrono::milliseconds lifetime_{0};
};

}  // namespace restsync

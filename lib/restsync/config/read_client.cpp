// The `client` section: base URL, auth, headers, rate limit, timeouts, body
// and memory limits, TLS.
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <utility>

#include "restsync/config/byte_size.hpp"
#include "restsync/config/reader.hpp"
#include "restsync/http/url.hpp"

namespace restsync::config_reader {

namespace {

constexpr std::string_view client_keys[] = {"base_url",       "auth",          "headers",
                                            "rate_limit",     "max_in_flight", "timeout",
                                            "max_body_bytes", "memory_budget", "tls"};
constexpr named<auth_type> auth_types[] = {
    {"bearer", auth_type::bearer},
    {"http_basic", auth_type::http_basic},
    {"api_key", auth_type::api_key},
    {"oauth2_client_credentials", auth_type::oauth2_client_credentials}};
constexpr std::string_view bearer_keys[] = {"type", "token"};
constexpr std::string_view http_basic_keys[] = {"type", "username", "password"};
constexpr std::string_view api_key_keys[] = {"type", "name", "api_key", "location"};
constexpr std::string_view oauth2_keys[] = {
    "type",          "access_token_url",          "client_id",
    "client_secret", "access_token_request_data", "default_token_expiration",
    "access_token"};
constexpr named<api_key_location> api_key_locations[] = {{"header", api_key_location::header},
                                                         {"query", api_key_location::query}};
constexpr std::string_view rate_limit_keys[] = {"requests_per_second", "burst"};
constexpr std::string_view timeout_keys[] = {"connect", "read"};
constexpr std::string_view tls_keys[] = {"verify", "ca_file"};

}  // namespace

client_config loader::read_client(const config_node& n) {
  client_config c;
  if (!expect_map(n, "a map with at least `base_url`")) return c;
  check_keys(n, client_keys);

  if (const auto* v =
          required(n, "base_url", "the API's http(s) URL, such as `https://api.example.com`")) {
    if (auto s = non_empty_string(*v, "the API's http(s) URL, such as `https://api.example.com`")) {
      std::string reason;
      try {
        parse_url(*s);
        if (s->find_first_of("?#") != std::string::npos) {
          reason =
              "must not carry a query or fragment (put query parameters under an "
              "endpoint's `params`)";
        }
      } catch (const std::invalid_argument& e) {
        // parse_url may quote parts of the URL, which a secret must not show.
        reason = secrets_.contains_secret(*s) ? "is not an absolute http(s) URL" : e.what();
      }
      if (reason.empty()) {
        c.base_url = *s;
      } else {
        fail(*v, fmt::format("{}: {}; expected an absolute http(s) URL such as "
                             "`https://api.example.com`",
                             shown(*v), reason));
      }
    }
  }
  if (const auto* v = optional(n, "auth")) c.auth = read_auth(*v);
  if (const auto* v = optional(n, "headers")) c.headers = read_headers(*v);
  if (const auto* v = optional(n, "rate_limit")) {
    if (expect_map(*v, "a map with `requests_per_second` and `burst`")) {
      check_keys(*v, rate_limit_keys);
      if (const auto* r = optional(*v, "requests_per_second")) {
        if (auto x = number_value(*r, true)) c.rate_limit.requests_per_second = *x;
      }
      if (const auto* b = optional(*v, "burst")) {
        if (auto x = int_value(*b, 1)) c.rate_limit.burst = *x;
      }
    }
  }
  if (const auto* v = optional(n, "max_in_flight")) {
    if (auto x = int_value(*v, 1)) c.max_in_flight = *x;
  }
  if (const auto* v = optional(n, "timeout")) {
    if (v->kind == node_kind::scalar) {
      if (auto d = duration_value(*v, false)) c.timeout.connect = c.timeout.read = *d;
    } else if (expect_map(*v, "a duration, or a map with `connect` and `read` durations")) {
      check_keys(*v, timeout_keys);
      if (const auto* t = optional(*v, "connect")) {
        if (auto d = duration_value(*t, false)) c.timeout.connect = *d;
      }
      if (const auto* t = optional(*v, "read")) {
        if (auto d = duration_value(*t, false)) c.timeout.read = *d;
      }
    }
  }
  for (auto [key, target] : {std::pair{"max_body_bytes", &c.max_body_bytes},
                             std::pair{"memory_budget", &c.memory_budget}}) {
    const auto* v = optional(n, key);
    if (v == nullptr) continue;
    if (auto s = string_value(*v)) {
      auto bytes = parse_byte_size(*s);
      if (bytes && *bytes > 0) {
        *target = *bytes;
      } else {
        fail(*v, fmt::format("expected a size above 0 such as `67108864` or `64MiB`, found {}",
                             shown(*v)));
      }
    }
  }
  if (const auto* v = optional(n, "tls")) {
    if (expect_map(*v, "a map with `verify` and `ca_file`")) {
      check_keys(*v, tls_keys);
      if (const auto* t = optional(*v, "verify")) {
        if (auto b = bool_value(*t)) c.tls.verify = *b;
      }
      if (const auto* t = optional(*v, "ca_file")) {
        if (auto s = non_empty_string(*t, "the path of a PEM file of trusted CA certificates")) {
          fs::path p(*s);
          if (p.is_relative() && !base_dir_.empty()) p = base_dir_ / p;
          std::ifstream probe(p);
          if (!probe) {
            fail(*t, fmt::format("cannot read {} ({}): {}; expected a PEM file of trusted CA "
                                 "certificates",
                                 shown(*t), p.string(), std::strerror(errno)));
          } else {
            c.tls.ca_file = p.string();
          }
        }
      }
    }
  }
  return c;
}

auth_config loader::read_auth(const config_node& n) {
  auth_config a;
  if (!expect_map(n,
                  "a map with `type` (bearer, http_basic, api_key or oauth2_client_credentials) "
                  "and its keys"))
    return a;
  // dlt assumes a bearer token when the type is left out.
  auth_type type = auth_type::bearer;
  if (const auto* t = optional(n, "type")) {
    auto c = choice(*t, auth_types);
    if (!c) return a;
    type = *c;
  }
  switch (type) {
    case auth_type::none:  // not a name in auth_types
      break;
    case auth_type::bearer:
      a.type = auth_type::bearer;
      check_keys(n, bearer_keys, "(auth type bearer)");
      if (const auto* v =
              required(n, "token", "the bearer token, e.g. `${credential:api_token}`")) {
        if (auto s = non_empty_string(*v, "the bearer token", true)) a.token = *s;
      }
      break;
    case auth_type::http_basic:
      a.type = auth_type::http_basic;
      check_keys(n, http_basic_keys, "(auth type http_basic)");
      if (const auto* v = required(n, "username", "the user name")) {
        if (auto s = non_empty_string(*v, "the user name")) a.username = *s;
      }
      if (const auto* v =
              required(n, "password", "the password, e.g. `${credential:api_password}`")) {
        if (auto s = string_value(*v, true)) a.password = *s;
      }
      break;
    case auth_type::api_key:
      a.type = auth_type::api_key;
      check_keys(n, api_key_keys, "(auth type api_key)");
      if (const auto* v = required(n, "api_key", "the key, e.g. `${env:API_KEY}`")) {
        if (auto s = non_empty_string(*v, "the API key", true)) {
          if (has_line_break(*s)) {
            fail(*v, "the API key contains a line break; check the file or variable it comes from");
          } else {
            a.api_key = *s;
          }
        }
      }
      if (const auto* v = optional(n, "location")) {
        if (auto c = choice(*v, api_key_locations)) a.location = *c;
      }
      if (const auto* v = optional(n, "name")) {
        if (auto s = non_empty_string(*v, "the header or query parameter that carries the key")) {
          if (a.location == api_key_location::header && !is_header_name(*s)) {
            fail(*v, fmt::format("{} is not a valid HTTP header name (letters, digits and "
                                 "!#$%&'*+-.^_`|~, no spaces or colons)",
                                 shown(*v)));
          } else {
            a.name = *s;
          }
        }
      }
      break;
    case auth_type::oauth2_client_credentials:
      a.type = auth_type::oauth2_client_credentials;
      check_keys(n, oauth2_keys, "(auth type oauth2_client_credentials)");
      read_oauth2(n, a);
      break;
  }
  return a;
}

void loader::read_oauth2(const config_node& n, auth_config& a) {
  if (const auto* v = required(n, "access_token_url",
                               "the token endpoint's http(s) URL, such as "
                               "`https://auth.example.com/oauth/token`")) {
    if (auto s = non_empty_string(*v, "the token endpoint's http(s) URL")) {
      std::string reason;
      try {
        parse_url(*s);
        if (s->find('#') != std::string::npos) reason = "must not carry a fragment";
      } catch (const std::invalid_argument& e) {
        reason = secrets_.contains_secret(*s) ? "is not an absolute http(s) URL" : e.what();
      }
      if (reason.empty())
        a.access_token_url = *s;
      else
        fail(*v, fmt::format("{}: {}; expected an absolute http(s) URL such as "
                             "`https://auth.example.com/oauth/token`",
                             shown(*v), reason));
    }
  }
  // dlt treats both as secrets; the id is masked too.
  if (const auto* v = required(n, "client_id", "the client's id, e.g. `${env:CLIENT_ID}`")) {
    if (auto s = non_empty_string(*v, "the client's id", true)) a.client_id = *s;
  }
  if (const auto* v =
          required(n, "client_secret", "the client's secret, e.g. `${credential:client_secret}`")) {
    if (auto s = non_empty_string(*v, "the client's secret", true)) a.client_secret = *s;
  }
  if (const auto* v = optional(n, "access_token_request_data")) {
    if (expect_map(*v,
                   "a map of form fields sent to the token endpoint, such as "
                   "`{scope: read, audience: https://api.example.com}`")) {
      for (std::size_t i = 0; i < v->keys.size(); ++i) {
        const config_node& value = v->items[i];
        if (value.kind != node_kind::scalar) {
          fail(value, fmt::format("expected a string, number or boolean (a form field), found {}",
                                  kind_name(value.kind)));
          continue;
        }
        if (auto s = string_value(value, looks_secret(v->keys[i].name)))
          a.access_token_request_data.emplace_back(v->keys[i].name, *s);
      }
    }
  }
  if (const auto* v = optional(n, "default_token_expiration")) {
    if (auto d = duration_value(*v, false)) a.default_token_expiration = *d;
  }
  if (const auto* v = n.find("access_token")) {
    fail(*v,
         "restsync fetches the token from `access_token_url` itself and renews it (dlt, too, "
         "replaces a given token at the first request); remove `access_token`");
  }
}

query_params loader::read_headers(const config_node& n) {
  query_params out;
  if (!expect_map(n, "a map of header names to values")) return out;
  for (std::size_t i = 0; i < n.keys.size(); ++i) {
    const config_key& key = n.keys[i];
    const config_node& value = n.items[i];
    if (!is_header_name(key.name)) {
      fail(key.mark, n.path,
           fmt::format("`{}` is not a valid HTTP header name (letters, digits and "
                       "!#$%&'*+-.^_`|~, no spaces or colons)",
                       key.name));
      continue;
    }
    if (value.kind == node_kind::null) {
      fail(value, "no value given; write `\"\"` for an empty header");
      continue;
    }
    auto s = string_value(value, looks_secret(key.name));
    if (!s) continue;
    if (has_line_break(*s)) {
      fail(value,
           "a header value must not contain a line break; check the file or variable "
           "it comes from");
      continue;
    }
    out.emplace_back(key.name, *s);
  }
  return out;
}

}  // namespace restsync::config_reader

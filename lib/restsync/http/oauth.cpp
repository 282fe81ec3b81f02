#include "restsync/http/oauth.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include "restsync/http/url.hpp"

namespace restsync {

std::string token_request_form(const auth_config& auth) {
  query_params fields = {{"client_id", auth.client_id},
                         {"client_secret", auth.client_secret},
                         {"grant_type", "client_credentials"}};
  for (const auto& [name, value] : auth.access_token_request_data) {
    auto same =
        std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.first == name; });
    if (same != fields.end())
      same->second = value;
    else
      fields.emplace_back(name, value);
  }
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += percent_encode(name) + '=' + percent_encode(value);
  }
  return out;
}

std::string shown_token_url(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

std::variant<token_response, std::string> read_token_response(std::string_view body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject()) return std::string("the answer is not a JSON object");
  auto token = d.FindMember("access_token");
  if (token == d.MemberEnd() || !token->value.IsString() || token->value.GetStringLength() == 0)
    return std::string("the answer has no `access_token` string");
  token_response r;
  r.access_token.assign(token->value.GetString(), token->value.GetStringLength());
  if (auto e = d.FindMember("expires_in"); e != d.MemberEnd() && !e->value.IsNull()) {
    const auto& v = e->value;
    std::optional<double> seconds;
    if (v.IsNumber()) {
      seconds = v.GetDouble();
    } else if (v.IsString()) {
      double x = 0;
      const char* s = v.GetString();
      auto [end, ec] = std::from_chars(s, s + v.GetStringLength(), x);
      if (ec == std::errc{} && end == s + v.GetStringLength()) seconds = x;
    }
    // A year: beyond that a number is a mistake, not a lifetime.
    constexpr double most = 366.0 * 24 * 3600;
    if (!seconds || !(*seconds >= 0) || *seconds > most)
      return std::string("`expires_in` is not a number of seconds");
    r.expires_in = std::chrono::seconds(static_cast<std::int64_t>(*seconds));
  }
  return r;
}

std::chrono::milliseconds renewal_margin(std::chrono::milliseconds lifetime) {
  return std::min<std::chrono::milliseconds>(std::chrono::seconds(60), lifetime / 10);
}

void token_cache::store(const token_response& r, clock::time_point now) {
  token_ = r.access_token;
  lifetime_ = r.expires_in ? std::chrono::milliseconds(*r.expires_in) : default_lifetime_;
  renew_at_ = now + lifetime_ - renewal_margin(lifetime_);
}

void token_cache::reject(const std::string& token) {
  if (token == token_) renew_at_ = {};
}

}  // namespace restsync

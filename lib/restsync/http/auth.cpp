#include "restsync/http/auth.hpp"

namespace restsync {

std::string base64_encode(std::string_view data) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    out.push_back(table[(v >> 18) & 63]);
    out.push_back(table[(v >> 12) & 63]);
    out.push_back(table[(v >> 6) & 63]);
    out.push_back(table[v & 63]);
  }
  if (i < data.size()) {
    unsigned v = static_cast<unsigned char>(data[i]) << 16;
    if (i + 1 < data.size()) v |= static_cast<unsigned char>(data[i + 1]) << 8;
    out.push_back(table[(v >> 18) & 63]);
    out.push_back(table[(v >> 12) & 63]);
    out.push_back(i + 1 < data.size() ? table[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

request_credentials credentials_for(const auth_config& auth) {
  request_credentials c;
  switch (auth.type) {
    case auth_type::none:
      break;
    case auth_type::oauth2_client_credentials:
      // The token is fetched while running: sync/token_source.hpp.
      break;
    case auth_type::bearer:
      c.headers.emplace_back("Authorization", "Bearer " + auth.token);
      break;
    case auth_type::http_basic:
      c.headers.emplace_back("Authorization",
                             "Basic " + base64_encode(auth.username + ":" + auth.password));
      break;
    case auth_type::api_key:
      if (auth.location == api_key_location::header)
        c.headers.emplace_back(auth.name, auth.api_key);
      else
        c.params.emplace_back(auth.name, auth.api_key);
      break;
  }
  return c;
}

}  // namespace restsync

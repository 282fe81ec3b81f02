// What a request carries to authenticate, from the client's auth config:
// headers to add and query parameters to append.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restsync/config/config.hpp"

namespace restsync {

struct request_credentials {
  std::vector<std::pair<std::string, std::string>> headers;
  query_params params;
};

request_credentials credentials_for(const auth_config& auth);

std::string base64_encode(std::string_view data);

}  // namespace restsync

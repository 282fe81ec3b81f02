// URLs as the HTTP client needs them: an origin (scheme, host, port) and a
// request target built from a path and percent-encoded query parameters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace restsync {

struct url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 0;
  std::string target;  // path and query, at least "/"

  bool tls() const { return scheme == "https"; }
  // scheme://host:port, the key that connections are pooled by.
  std::string origin() const;
  // Host header value: host, with :port when it is not the scheme's default.
  std::string host_header() const;
};

// Parses an absolute http(s) URL; throws std::invalid_argument naming what is
// wrong. User info (user:password@) is refused: credentials belong in auth.
url parse_url(std::string_view text);

// RFC 3986 percent-encoding of a query component (unreserved characters kept).
std::string percent_encode(std::string_view text);

using query_params = std::vector<std::pair<std::string, std::string>>;

// base path + path, joined with exactly one '/', then ?k=v&... (encoded).
// A path that is itself an absolute URL is not accepted here.
std::string join_target(std::string_view base_path, std::string_view path,
                        const query_params& params);

// Appends params to a target that may already carry a query string.
std::string append_query(std::string_view target, const query_params& params);

// target with the value of every query parameter named in names (as
// append_query writes them) replaced by `***`: a target fit for a message,
// with no credential in it.
std::string redact_query(std::string_view target, const std::vector<std::string>& names);

}  // namespace restsync

namespace restsync {

// The URL of the first link with relation rel in an RFC 8288 Link header
// (`<https://…?page=2>; rel="next", <…>; rel="last"`), or nullopt.
std::optional<std::string> find_link(std::string_view header, std::string_view rel);

}  // namespace restsync

// A request as the HTTP client sends it: the method, the origin-relative
// target and, for a POST, the body. Plain values, so that the request
// builder (plan/request_query.hpp) and the client can share them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace restsync {

// The methods an endpoint may use (dlt's HTTPMethodBasic). A POST endpoint
// configured as a resource is a query that reads, as in dlt: it is retried
// and paged like a GET.
enum class http_method { get, post };

inline std::string_view to_string(http_method m) { return m == http_method::post ? "POST" : "GET"; }

inline constexpr std::string_view json_content_type = "application/json";
inline constexpr std::string_view form_content_type = "application/x-www-form-urlencoded";

struct http_request {
  http_method method = http_method::get;
  std::string target;  // path and query, at least "/"
  // Sent with its Content-Type and Content-Length; a POST without one is sent
  // with Content-Length: 0.
  std::optional<std::string> body;
  std::string_view content_type = json_content_type;

  bool operator==(const http_request&) const = default;
};

}  // namespace restsync

// What one attempt of a request came to, from what came back: a page, a
// failure that no retry can mend, or an outcome for the retry policy to
// judge (retry after a wait, or fail). Pure: the status, the Retry-After
// header, the body or the transport error go in; no socket, no clock of its own.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "restsync/config/config.hpp"
#include "restsync/flow/retry_policy.hpp"
#include "restsync/paging/page.hpp"

namespace restsync {

// The body does not have the shape the configuration describes (the
// selector, a record, the total or the next hint): retrying cannot help, and
// reading it any other way could lose records.
struct response_failure {
  std::string message;  // page_error's message
};

// An attempt that did not bring a page: for the retry policy.
struct response_attempt {
  attempt_outcome outcome;
  // The server's own words for messages: the `_errors` message, else the
  // body's first limits::server_message_bytes bytes, else the transport
  // error's message.
  std::string server_message;
};

// A response that an entry of the endpoint's response_actions matches: no
// records here. Nothing is read from it and it is not retried; the scan
// ends there.
struct response_ignored {
  int status = 0;
  std::string reason;  // which entry matched, for the log
};

// A 2xx whose body read as a page, a failure, an attempt to judge, or a
// response to ignore.
using response_class = std::variant<page, response_failure, response_attempt, response_ignored>;

// The first entry of actions that the response matches (dlt's order and
// rule: the status when the entry has one, and the body containing the
// content when it has one), or nullopt. A 429 matches none: it is flow
// control, waited out before anything else.
std::optional<std::size_t> matching_action(int status, std::string_view body,
                                           std::span<const response_action> actions);

// A response that arrived:
//   an entry of actions matches (matching_action) → ignored, whatever the
//     status (before any retry, as in dlt);
//   2xx and the body reads as a page → the page;
//   2xx with malformed JSON → an attempt (malformed_json: retried like a 5xx);
//   2xx with a non-empty `_errors` → an attempt (errors_in_body, with the
//     first error's code when it reads as a number);
//   2xx with another page_error (selector, record, total, next) → failure;
//   any other status → an attempt (http, with Retry-After), the message the
//     `_errors` message when the body has one, else the body's start.
response_class classify_response(int status, std::string body,
                                 const std::optional<std::string>& retry_after,
                                 const page_spec& spec,
                                 std::span<const response_action> actions = {});

// A request that got no response.
response_attempt classify_transport(transport_error error, std::string message);

// The retry policy's verdict on an attempt.
struct attempt_verdict {
  retry_decision decision;
  bool retry = false;
  // A 429 response being retried: counted as rate limiting, not as a retry.
  bool rate_limited = false;
  // For a failure: the reason, then the server's message if any.
  std::string message;
};

attempt_verdict judge(const response_attempt& attempt, const retry_policy& policy,
                      retry_counts& used, std::chrono::system_clock::time_point now,
                      double random01);

}  // namespace restsync

#include "restsync/flow/response_class.hpp"

#include <fmt/format.h>

#include <utility>

#include "restsync/plan/limits.hpp"

namespace restsync {

std::optional<std::size_t> matching_action(int status, std::string_view body,
                                           std::span<const response_action> actions) {
  if (status == 429) return std::nullopt;
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const auto& a = actions[i];
    if (a.status_code && *a.status_code != status) continue;
    if (a.content && body.find(*a.content) == std::string_view::npos) continue;
    return i;
  }
  return std::nullopt;
}

response_class classify_response(int status, std::string body,
                                 const std::optional<std::string>& retry_after,
                                 const page_spec& spec, std::span<const response_action> actions) {
  if (auto i = matching_action(status, body, actions)) {
    const auto& a = actions[*i];
    std::string matched;
    if (a.status_code) matched = fmt::format("status {}", *a.status_code);
    if (a.content)
      matched +=
          fmt::format("{}the body contains \"{}\"", matched.empty() ? "" : " and ", *a.content);
    return response_ignored{
        status, fmt::format("response_actions[{}] matches ({}): action ignore", *i, matched)};
  }
  if (status >= 200 && status < 300) {
    auto parsed = page::read(std::move(body), spec);
    if (auto* p = std::get_if<page>(&parsed)) return std::move(*p);
    auto& err = std::get<page_error>(parsed);
    response_attempt a;
    if (err.what == page_error::kind::malformed) {
      a.outcome = attempt_outcome::malformed_json(status);
    } else if (err.what == page_error::kind::api_errors) {
      std::optional<int> code;
      if (!err.api_errors.empty()) {
        try {
          code = std::stoi(err.api_errors.front().code);
        } catch (...) {
        }
      }
      a.outcome = attempt_outcome::errors_in_body(status, code, err.message);
    } else {
      return response_failure{std::move(err.message)};
    }
    a.server_message = std::move(err.message);
    return a;
  }
  response_attempt a;
  a.outcome = attempt_outcome::http(status, retry_after);
  // The server's own words, from an `_errors` body when it sent one.
  auto parsed = page::read(body, spec);
  if (auto* err = std::get_if<page_error>(&parsed);
      err && err->what == page_error::kind::api_errors)
    a.server_message = err->message;
  else
    a.server_message = body.substr(0, limits::server_message_bytes);
  return a;
}

response_attempt classify_transport(transport_error error, std::string message) {
  return {attempt_outcome::transport_failure(error), std::move(message)};
}

attempt_verdict judge(const response_attempt& attempt, const retry_policy& policy,
                      retry_counts& used, std::chrono::system_clock::time_point now,
                      double random01) {
  attempt_verdict v;
  v.decision = policy.decide(used, attempt.outcome, now, random01);
  v.retry = v.decision.action == retry_action::retry;
  if (v.retry) {
    v.rate_limited =
        attempt.outcome.what == attempt_outcome::kind::response && attempt.outcome.status == 429;
  } else {
    v.message = v.decision.reason;
    if (!attempt.server_message.empty()) v.message += ": " + attempt.server_message;
  }
  return v;
}

}  // namespace restsync

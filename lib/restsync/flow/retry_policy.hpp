// What to do after one attempt of a request: done, retry after a wait, or
// fail, plus the global pause a 429 asks of the rate gate. Pure: the outcome,
// the wall-clock time and a random number come in, a decision goes out.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace restsync {

struct retry_settings {
  // Statuses retried besides every 5xx; 429 is retried as flow control only
  // when it is listed here.
  std::vector<int> retry_on_status_codes = {429, 500, 502, 503, 504};
  // Retries after errors (5xx, listed statuses, transport, malformed JSON).
  int max_retries = 3;
  // The n-th retry waits backoff_factor * 2^(n-1) seconds, +-25% jitter.
  double backoff_factor = 2;
  std::chrono::milliseconds max_backoff = std::chrono::seconds{60};
  // 429s never count against max_retries. A request that has met nothing
  // but 429s for max_rate_limit_wait fails; so does one after
  // max_rate_limit_retries of them, when that is set.
  std::optional<int> max_rate_limit_retries;
  std::chrono::milliseconds max_rate_limit_wait = std::chrono::minutes{15};
  // A Retry-After longer than this fails the request instead of waiting.
  std::chrono::milliseconds max_retry_after = std::chrono::minutes{15};
  // The shortest wait after a 429, so that `Retry-After: 0` cannot spin.
  std::chrono::milliseconds min_rate_limit_wait = std::chrono::seconds{1};
};

enum class transport_error {
  connect_failed,
  timeout,
  reset,
  truncated_body,
  // Certificate verification or TLS protocol failure: retrying cannot make
  // an untrusted certificate trusted, so it is never retried.
  tls_error,
};

std::string_view to_string(transport_error e);

// How one attempt ended. Build it with the named constructors.
struct attempt_outcome {
  enum class kind { response, transport, malformed_json, errors_in_body };

  // A response arrived and its body was fine (or not looked at).
  static attempt_outcome http(int status, std::optional<std::string> retry_after = std::nullopt);
  static attempt_outcome transport_failure(transport_error e);
  // A response arrived but its body is not the JSON it should be.
  static attempt_outcome malformed_json(int status = 200);
  // The body holds a non-empty `_errors` array; code and message are its
  // first entry's (code absent when missing or not a number).
  static attempt_outcome errors_in_body(int status, std::optional<int> code,
                                        std::string message = {},
                                        std::optional<std::string> retry_after = std::nullopt);

  kind what = kind::response;
  int status = 0;
  // The raw Retry-After header value, if the response had one.
  std::optional<std::string> retry_after;
  transport_error transport = transport_error::connect_failed;
  std::optional<int> error_code;
  std::string error_message;
};

enum class retry_action { done, retry, fail };

struct retry_decision {
  retry_action action = retry_action::done;
  // For retry: how long until the next attempt. After a 429 the rate gate's
  // pause enforces it for every request, and wait == pause_all_until - now.
  std::chrono::milliseconds wait{0};
  // Set after a 429 that will be retried: pause the whole rate gate until then.
  std::optional<std::chrono::system_clock::time_point> pause_all_until;
  // For the log: "HTTP 503, retry 2/3 in 4.1s", "HTTP 401: not retried".
  std::string reason;
  // The answer was the server's "too many requests" (HTTP 429, or 429 as the
  // code of a 2xx body's `_errors`), retried or not: the rate gate slows down.
  bool too_many_requests = false;
};

// Retries already spent on one request; starts at zero for every request.
struct retry_counts {
  int retries = 0;
  int rate_limit_retries = 0;
  // The first 429 of the request's current run of them; any other answer
  // ends the run (progress).
  std::optional<std::chrono::system_clock::time_point> rate_limited_since;
};

// The rules, for the HTTP status of the response or, for a 200 carrying
// `_errors`, for the code inside it:
//
// - 2xx → done.
// - 429 listed in retry_on_status_codes → flow control: wait as Retry-After
//   says (delta-seconds or an HTTP date), else exponential backoff; never
//   less than min_rate_limit_wait; pause every request until then. Fails
//   once the request has met only 429s for max_rate_limit_wait (the wait
//   that would end beyond it is not begun), or after max_rate_limit_retries
//   of them when set; never counts against max_retries. A Retry-After beyond
//   max_retry_after fails at once (and pauses nobody: the other requests
//   will hear the same from the server and fail on their own). 429 not
//   listed → fail.
// - Any 5xx, or any other listed status → retry with exponential backoff,
//   counting against max_retries. 5xx is retried even when not listed: it is
//   the server's fault by definition, and failing a run on a transient 520
//   costs more than three wasted retries on a 501. A valid Retry-After on
//   these is honoured as the least wait.
// - Other statuses (401, 403, 404, any unlisted 4xx, 3xx, 1xx) → fail, never
//   retried.
// - Transport errors → retried like a 5xx, except tls_error → fail.
// - Malformed JSON in a 2xx → retried like a 5xx (a proxy's HTML page or a
//   body cut at a length the headers agreed with is transient). In a non-2xx
//   response the status decides.
// - `_errors` in a 2xx body: the code inside decides as if it were the HTTP
//   status (401 → fail, 503 → retry, 429 → flow control). Without a code, or
//   with one that is not an HTTP error status, → fail, not retried: the
//   vendor reported an application error on purpose, nothing suggests it is
//   transient, a retry would spend the scarce rate budget to hide it, and the
//   next scheduled run retries anyway. With a non-2xx status the status decides.
//
// Jitter: the n-th backoff is backoff_factor * 2^(n-1) s capped at
// max_backoff, then scaled by a uniform factor in [0.75, 1.25) and capped at
// max_backoff again. Not "full" jitter (uniform in [0, backoff)): that can
// draw a near-zero wait, which after a 429 is the tight loop to avoid, and
// +-25% is enough to spread requests that failed together. Retry-After
// values are honoured exactly, without jitter: the gate's pause already
// releases the waiting requests one token at a time.
class retry_policy {
 public:
  // Throws std::invalid_argument for negative budgets or waits, or a
  // negative or non-finite backoff_factor.
  explicit retry_policy(retry_settings settings);

  // The decision after an attempt of a request whose retries so far are in
  // `used`; a retry decision counts itself there. `random01` is a uniform
  // number in [0, 1) (std::uniform_real_distribution on a seeded engine);
  // values outside are clamped.
  retry_decision decide(retry_counts& used, const attempt_outcome& outcome,
                        std::chrono::system_clock::time_point now, double random01) const;

  // The wait before the n-th error retry (n >= 1), jitter included.
  std::chrono::milliseconds backoff(int n, double random01) const;

  const retry_settings& settings() const { return settings_; }

 private:
  retry_settings settings_;
};

// An HTTP-date in any of RFC 9110's three forms: IMF-fixdate
// (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37
// GMT`; a two-digit year more than 50 years ahead of `now` is taken as the
// past century's) and asctime (`Sun Nov  6 08:49:37 1994`). Names are matched
// case-insensitively and the weekday is not checked against the date.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text,
                                                        std::chrono::system_clock::time_point now);

// The wait a Retry-After value asks for at `now`: delta-seconds, or the time
// until an HTTP-date (zero or negative for a date in the past). Absent for
// anything else (`-1`, `1.5`, garbage). Values beyond ~100 years either way
// saturate there.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace restsync

#include "restsync/flow/retry_policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace restsync {

namespace chr = std::chrono;
using sys_time = chr::system_clock::time_point;
using sys_seconds = chr::sys_seconds;

std::string_view to_string(transport_error e) {
  switch (e) {
    case transport_error::connect_failed:
      return "connect failed";
    case transport_error::timeout:
      return "timeout";
    case transport_error::reset:
      return "connection reset";
    case transport_error::truncated_body:
      return "truncated body";
    case transport_error::tls_error:
      return "TLS error";
  }
  return "transport error";
}

attempt_outcome attempt_outcome::http(int status, std::optional<std::string> retry_after) {
  attempt_outcome o;
  o.what = kind::response;
  o.status = status;
  o.retry_after = std::move(retry_after);
  return o;
}

attempt_outcome attempt_outcome::transport_failure(transport_error e) {
  attempt_outcome o;
  o.what = kind::transport;
  o.transport = e;
  return o;
}

attempt_outcome attempt_outcome::malformed_json(int status) {
  attempt_outcome o;
  o.what = kind::malformed_json;
  o.status = status;
  return o;
}

attempt_outcome attempt_outcome::errors_in_body(int status, std::optional<int> code,
                                                std::string message,
                                                std::optional<std::string> retry_after) {
  attempt_outcome o;
  o.what = kind::errors_in_body;
  o.status = status;
  o.error_code = code;
  o.error_message = std::move(message);
  o.retry_after = std::move(retry_after);
  return o;
}

namespace {

// Saturation point for delta-seconds: far beyond any max_retry_after, far
// below where milliseconds overflow.
constexpr std::int64_t max_delta_seconds = 100LL * 366 * 24 * 3600;

bool is_2xx(int status) { return status >= 200 && status < 300; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// A left-to-right reader over the header value; every take_* consumes only on success.
class reader {
 public:
  explicit reader(std::string_view s) : s_(s) {}
  bool done() const { return s_.empty(); }

  bool literal(std::string_view lit) {
    if (s_.substr(0, lit.size()) != lit) return false;
    s_.remove_prefix(lit.size());
    return true;
  }

  // Exactly `count` digits.
  std::optional<int> digits(std::size_t count) {
    if (s_.size() < count) return std::nullopt;
    int v = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (s_[i] < '0' || s_[i] > '9') return std::nullopt;
      v = v * 10 + (s_[i] - '0');
    }
    s_.remove_prefix(count);
    return v;
  }

  // One of `names`, case-insensitively; returns its index.
  template <std::size_t N>
  std::optional<int> name(const std::array<std::string_view, N>& names) {
    for (std::size_t i = 0; i < N; ++i) {
      if (s_.size() >= names[i].size() && iequals(s_.substr(0, names[i].size()), names[i])) {
        s_.remove_prefix(names[i].size());
        return static_cast<int>(i);
      }
    }
    return std::nullopt;
  }

 private:
  std::string_view s_;
};

constexpr std::array<std::string_view, 7> short_days = {"Mon", "Tue", "Wed", "Thu",
                                                        "Fri", "Sat", "Sun"};
// Longest first so that no name is taken for a prefix of another.
constexpr std::array<std::string_view, 7> long_days = {
    "Wednesday", "Thursday", "Saturday", "Tuesday", "Monday", "Friday", "Sunday"};
constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct hms {
  int h, m, s;
};

std::optional<hms> time_of_day(reader& r) {
  auto h = r.digits(2);
  if (!h || !r.literal(":")) return std::nullopt;
  auto m = r.digits(2);
  if (!m || !r.literal(":")) return std::nullopt;
  auto s = r.digits(2);
  // 60 is a leap second, which the grammar allows.
  if (!s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;
  return hms{*h, *m, *s};
}

// Seconds, not the clock's nanoseconds: those overflow before year 2263,
// and a header may say 9999.
std::optional<sys_seconds> make_time(int year, int month0, int day, hms t) {
  const chr::year_month_day ymd{chr::year{year}, chr::month{static_cast<unsigned>(month0 + 1)},
                                chr::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_seconds{chr::sys_days{ymd}} + chr::hours{t.h} + chr::minutes{t.m} + chr::seconds{t.s};
}

// `Sun, 06 Nov 1994 08:49:37 GMT`
std::optional<sys_seconds> imf_fixdate(std::string_view text) {
  reader r(text);
  if (!r.name(short_days) || !r.literal(", ")) return std::nullopt;
  auto day = r.digits(2);
  if (!day || !r.literal(" ")) return std::nullopt;
  auto mon = r.name(months);
  if (!mon || !r.literal(" ")) return std::nullopt;
  auto year = r.digits(4);
  if (!year || !r.literal(" ")) return std::nullopt;
  auto t = time_of_day(r);
  if (!t || !r.literal(" GMT") || !r.done()) return std::nullopt;
  return make_time(*year, *mon, *day, *t);
}

// `Sunday, 06-Nov-94 08:49:37 GMT`
std::optional<sys_seconds> rfc850_date(std::string_view text, sys_time now) {
  reader r(text);
  if (!r.name(long_days) || !r.literal(", ")) return std::nullopt;
  auto day = r.digits(2);
  if (!day || !r.literal("-")) return std::nullopt;
  auto mon = r.name(months);
  if (!mon || !r.literal("-")) return std::nullopt;
  auto yy = r.digits(2);
  if (!yy || !r.literal(" ")) return std::nullopt;
  auto t = time_of_day(r);
  if (!t || !r.literal(" GMT") || !r.done()) return std::nullopt;
  // RFC 9110 5.6.7: a year that looks more than 50 years ahead is the most
  // recent past year with the same last two digits.
  const int this_year = static_cast<int>(chr::year_month_day{chr::floor<chr::days>(now)}.year());
  int year = this_year - this_year % 100 + *yy;
  if (year > this_year + 50) {
    year -= 100;
  } else if (year <= this_year - 50) {
    year += 100;
  }
  return make_time(year, *mon, *day, *t);
}

// `Sun Nov  6 08:49:37 1994`
std::optional<sys_seconds> asctime_date(std::string_view text) {
  reader r(text);
  if (!r.name(short_days) || !r.literal(" ")) return std::nullopt;
  auto mon = r.name(months);
  if (!mon || !r.literal(" ")) return std::nullopt;
  std::optional<int> day;
  if (r.literal(" ")) {
    day = r.digits(1);
  } else {
    day = r.digits(2);
  }
  if (!day || !r.literal(" ")) return std::nullopt;
  auto t = time_of_day(r);
  if (!t || !r.literal(" ")) return std::nullopt;
  auto year = r.digits(4);
  if (!year || !r.done()) return std::nullopt;
  return make_time(*year, *mon, *day, *t);
}

std::string seconds_text(chr::milliseconds d) {
  return fmt::format("{:.1f}s", static_cast<double>(d.count()) / 1000.0);
}

double clamp01(double u) {
  if (!(u >= 0)) return 0;  // also NaN
  return std::min(u, std::nextafter(1.0, 0.0));
}

}  // namespace

std::optional<sys_seconds> parse_http_date(std::string_view text, sys_time now) {
  text = trim(text);
  if (auto t = imf_fixdate(text)) return t;
  if (auto t = rfc850_date(text, now)) return t;
  return asctime_date(text);
}

std::optional<chr::milliseconds> parse_retry_after(std::string_view value, sys_time now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t seconds = 0;
    for (char c : value) {
      seconds = std::min(max_delta_seconds, seconds * 10 + (c - '0'));
    }
    return chr::seconds{seconds};
  }
  if (auto date = parse_http_date(value, now)) {
    const chr::seconds whole = *date - chr::floor<chr::seconds>(now);
    if (whole > chr::seconds{max_delta_seconds}) return chr::seconds{max_delta_seconds};
    if (whole < -chr::seconds{max_delta_seconds}) return -chr::seconds{max_delta_seconds};
    // Rounded up: coming back a fraction early would only earn another 429.
    return chr::ceil<chr::milliseconds>(whole - (now - chr::floor<chr::seconds>(now)));
  }
  return std::nullopt;
}

retry_policy::retry_policy(retry_settings settings) : settings_(std::move(settings)) {
  const auto& s = settings_;
  if (s.max_retries < 0 || (s.max_rate_limit_retries && *s.max_rate_limit_retries < 0)) {
    throw std::invalid_argument("retry_policy: retry budgets must be >= 0");
  }
  if (!std::isfinite(s.backoff_factor) || s.backoff_factor < 0) {
    throw std::invalid_argument("retry_policy: backoff_factor must be a finite number >= 0");
  }
  if (s.max_backoff.count() < 0 || s.max_retry_after.count() < 0 ||
      s.min_rate_limit_wait.count() < 0 || s.max_rate_limit_wait.count() < 0) {
    throw std::invalid_argument("retry_policy: waits must be >= 0");
  }
}

chr::milliseconds retry_policy::backoff(int n, double random01) const {
  const double cap = static_cast<double>(settings_.max_backoff.count());
  // 2^62 s is past any cap; a larger exponent would only risk 0 * inf.
  const double nominal =
      std::min(cap, settings_.backoff_factor * std::ldexp(1000.0, std::clamp(n - 1, 0, 62)));
  const double jittered = std::min(cap, nominal * (0.75 + 0.5 * clamp01(random01)));
  return chr::milliseconds{std::llround(jittered)};
}

retry_decision retry_policy::decide(retry_counts& used, const attempt_outcome& o, sys_time now,
                                    double random01) const {
  const auto& s = settings_;
  retry_decision d;

  std::string what;
  std::optional<int> code;  // the status the rules apply to
  bool error_retryable_always = false;
  switch (o.what) {
    case attempt_outcome::kind::response:
      what = fmt::format("HTTP {}", o.status);
      code = o.status;
      break;
    case attempt_outcome::kind::transport:
      what = std::string(to_string(o.transport));
      error_retryable_always = o.transport != transport_error::tls_error;
      if (!error_retryable_always) {
        d.action = retry_action::fail;
        d.reason = what + ": not retried (a certificate or TLS failure does not heal)";
        return d;
      }
      break;
    case attempt_outcome::kind::malformed_json:
      what = fmt::format("HTTP {} with malformed JSON", o.status);
      code = o.status;
      error_retryable_always = is_2xx(o.status);
      break;
    case attempt_outcome::kind::errors_in_body: {
      const std::string message =
          o.error_message.empty() ? "" : fmt::format(" \"{}\"", o.error_message);
      if (!is_2xx(o.status)) {
        what = fmt::format("HTTP {}{}", o.status, message);
        code = o.status;
      } else if (o.error_code && !is_2xx(*o.error_code) && *o.error_code >= 100 &&
                 *o.error_code <= 599) {
        what = fmt::format("HTTP {} with _errors code {}{}", o.status, *o.error_code, message);
        code = *o.error_code;
      } else {
        d.action = retry_action::fail;
        d.reason =
            fmt::format("HTTP {} with _errors{}{}: not retried (an application error)", o.status,
                        o.error_code ? fmt::format(" code {}", *o.error_code) : "", message);
        return d;
      }
      break;
    }
  }

  if (!error_retryable_always && code && is_2xx(*code)) {
    d.action = retry_action::done;
    d.reason = what;
    return d;
  }

  const auto listed = [&](int c) {
    return std::find(s.retry_on_status_codes.begin(), s.retry_on_status_codes.end(), c) !=
           s.retry_on_status_codes.end();
  };
  std::optional<chr::milliseconds> retry_after;
  if (o.retry_after) retry_after = parse_retry_after(*o.retry_after, now);
  // A Retry-After beyond max_retry_after fails the request rather than waiting.
  auto waits_too_long = [&] {
    if (!retry_after || *retry_after <= s.max_retry_after) return false;
    d.action = retry_action::fail;
    d.reason = fmt::format("{}: Retry-After {} exceeds max_retry_after {}; not waiting", what,
                           seconds_text(*retry_after), seconds_text(s.max_retry_after));
    return true;
  };

  if (!error_retryable_always && *code == 429) {
    d.too_many_requests = true;
    if (!listed(429)) {
      d.action = retry_action::fail;
      d.reason = what + ": not retried (429 is not in retry_on_status_codes)";
      return d;
    }
    if (waits_too_long()) return d;
    if (s.max_rate_limit_retries && used.rate_limit_retries >= *s.max_rate_limit_retries) {
      d.action = retry_action::fail;
      d.reason =
          fmt::format("{}: gave up after {} rate-limit retries", what, used.rate_limit_retries);
      return d;
    }
    if (!used.rate_limited_since) used.rate_limited_since = now;
    const auto limited_for = chr::duration_cast<chr::milliseconds>(now - *used.rate_limited_since);
    const int n = used.rate_limit_retries + 1;
    // Retry-After 0, a date already past, garbage or none: back off instead.
    const bool honoured = retry_after && retry_after->count() > 0;
    const auto wait =
        std::max(s.min_rate_limit_wait, honoured ? *retry_after : backoff(n, random01));
    if (limited_for + wait > s.max_rate_limit_wait) {
      d.action = retry_action::fail;
      d.reason = fmt::format(
          "{}: rate limited for {} without progress (max_rate_limit_wait {}); gave up after {} "
          "rate-limit retries",
          what, seconds_text(limited_for), seconds_text(s.max_rate_limit_wait),
          used.rate_limit_retries);
      return d;
    }
    used.rate_limit_retries = n;
    d.wait = wait;
    d.action = retry_action::retry;
    d.pause_all_until = now + d.wait;
    d.reason = fmt::format("{}, rate limited, retry {} in {}{}", what, n, seconds_text(d.wait),
                           honoured ? " (Retry-After)" : "");
    return d;
  }

  used.rate_limited_since.reset();  // an answer other than 429: progress
  const bool retryable = error_retryable_always || (*code >= 500 && *code <= 599) || listed(*code);
  if (!retryable) {
    d.action = retry_action::fail;
    d.reason = what + ": not retried";
    return d;
  }
  if (waits_too_long()) return d;
  if (used.retries >= s.max_retries) {
    d.action = retry_action::fail;
    d.reason = fmt::format("{}: gave up after {} retries", what, used.retries);
    return d;
  }
  const int n = ++used.retries;
  d.wait = backoff(n, random01);
  const bool honoured = retry_after && *retry_after > d.wait;
  if (honoured) d.wait = *retry_after;
  d.action = retry_action::retry;
  d.reason = fmt::format("{}, retry {}/{} in {}{}", what, n, s.max_retries, seconds_text(d.wait),
                         honoured ? " (Retry-After)" : "");
  return d;
}

}  // namespace restsync

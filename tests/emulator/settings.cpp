#include "settings.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "random.hpp"

namespace emulator {
namespace {

// The vendor's quirks: `all` sets these.
constexpr std::array<std::pair<std::string_view, quirk>, 7> quirk_names{{
    {"page_cap", quirk::page_cap},
    {"wrapped", quirk::wrapped},
    {"empty_no_data", quirk::empty_no_data},
    {"singletons", quirk::singletons},
    {"feed_order", quirk::feed_order},
    {"errors_in_200", quirk::errors_in_200},
    {"late_fields", quirk::late_fields},
}};

// Named one by one only: hostile behaviours, and one that costs a client
// requests (a scan again) where the others' counts are exact.
constexpr std::array<std::pair<std::string_view, quirk>, 3> hostile_quirk_names{{
    {"ignore_offset", quirk::ignore_offset},
    {"echo_key", quirk::echo_key},
    {"duplicate", quirk::duplicate},
}};

constexpr std::array<std::string_view, fault_kind_count> fault_names{
    "5xx", "reset", "truncate", "malformed", "drip", "429"};

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  while (true) {
    auto at = text.find(sep);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return parts;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

std::uint64_t parse_uint(std::string_view text, std::string_view what, std::uint64_t max) {
  std::uint64_t value = 0;
  if (!parse_number(text, value) || value > max)
    throw usage_error(
        fmt::format("{}: expected a whole number from 0 to {}, got '{}'", what, max, text));
  return value;
}

}  // namespace

quirk_set default_quirks() {
  quirk_set q;
  q.set(quirk::singletons);
  q.set(quirk::feed_order);
  return q;
}

quirk_set parse_quirks(std::string_view spec) {
  quirk_set q;
  spec = trim(spec);
  if (spec.empty() || spec == "none") return q;
  if (spec == "all") {
    for (auto& [name, value] : quirk_names) q.set(value);
    return q;
  }
  for (auto part : split(spec, ',')) {
    part = trim(part);
    bool found = false;
    auto look_up = [&](const auto& names) {
      for (auto& [name, value] : names)
        if (name == part) {
          q.set(value);
          found = true;
        }
    };
    look_up(quirk_names);
    look_up(hostile_quirk_names);
    if (!found)
      throw usage_error(fmt::format(
          "--quirks: unknown quirk '{}' (known: page_cap, wrapped, empty_no_data, singletons, "
          "feed_order, errors_in_200, late_fields, ignore_offset, echo_key, duplicate, or all, "
          "none)",
          part));
  }
  return q;
}

std::string to_string(quirk_set quirks) {
  std::string out;
  auto add = [&](const auto& names) {
    for (auto& [name, value] : names)
      if (quirks.has(value)) {
        if (!out.empty()) out += ',';
        out += name;
      }
  };
  add(quirk_names);
  add(hostile_quirk_names);
  return out.empty() ? "none" : out;
}

std::string_view fault_name(fault_kind kind) {
  auto i = static_cast<std::size_t>(kind);
  return i < fault_kind_count ? fault_names[i] : "none";
}

fault_spec parse_faults(std::string_view spec) {
  fault_spec faults;
  spec = trim(spec);
  if (spec.empty() || spec == "none") return faults;
  double total = 0;
  for (auto part : split(spec, ',')) {
    part = trim(part);
    auto eq = part.find('=');
    if (eq == std::string_view::npos)
      throw usage_error(fmt::format("--faults: expected name=fraction, got '{}'", part));
    auto name = part.substr(0, eq);
    auto value_text = part.substr(eq + 1);
    std::size_t index = fault_kind_count;
    for (std::size_t i = 0; i < fault_kind_count; ++i)
      if (fault_names[i] == name) index = i;
    if (index == fault_kind_count)
      throw usage_error(fmt::format(
          "--faults: unknown fault '{}' (known: 5xx, reset, truncate, malformed, drip, 429)",
          name));
    double value = 0;
    if (!parse_number(value_text, value) || !(value >= 0 && value <= 1))
      throw usage_error(fmt::format(
          "--faults: fraction of '{}' must be a number from 0 to 1, got '{}'", name, value_text));
    total += value - faults.fraction[index];
    faults.fraction[index] = value;
  }
  if (total > 1 + 1e-9)
    throw usage_error(fmt::format("--faults: fractions add up to {}, more than 1", total));
  return faults;
}

std::string to_string(const fault_spec& faults) {
  std::string out;
  for (std::size_t i = 0; i < fault_kind_count; ++i)
    if (faults.fraction[i] > 0) {
      if (!out.empty()) out += ',';
      out += fmt::format("{}={}", fault_names[i], faults.fraction[i]);
    }
  return out.empty() ? "none" : out;
}

fault_kind choose_fault(const fault_spec& faults, std::uint64_t seed, std::uint64_t n) {
  double roll = unit_interval(mix(seed, 0xfa0175ULL, n));
  double edge = 0;
  for (std::size_t i = 0; i < fault_kind_count; ++i) {
    edge += faults.fraction[i];
    if (faults.fraction[i] > 0 && roll < edge) return static_cast<fault_kind>(i);
  }
  return fault_kind::none;
}

retry_after_mode parse_retry_after(std::string_view spec) {
  if (spec == "seconds") return retry_after_mode::seconds;
  if (spec == "date") return retry_after_mode::date;
  if (spec == "zero") return retry_after_mode::zero;
  if (spec == "none") return retry_after_mode::none;
  if (spec == "mixed") return retry_after_mode::mixed;
  throw usage_error(
      fmt::format("--retry-after: expected seconds, date, zero, none or mixed, got '{}'", spec));
}

std::string_view to_string(retry_after_mode mode) {
  switch (mode) {
    case retry_after_mode::seconds:
      return "seconds";
    case retry_after_mode::date:
      return "date";
    case retry_after_mode::zero:
      return "zero";
    case retry_after_mode::none:
      return "none";
    case retry_after_mode::mixed:
      return "mixed";
  }
  return "seconds";
}

double parse_rate_limit(std::string_view text, std::string_view what) {
  double value = 0;
  if (!parse_number(text, value) || !std::isfinite(value) || value < 0 || value > 1e9)
    throw usage_error(fmt::format(
        "{}: expected requests per second, a number >= 0 (0 = unlimited), got '{}'", what, text));
  return value;
}

std::chrono::milliseconds parse_latency(std::string_view text, std::string_view what) {
  return std::chrono::milliseconds(parse_uint(text, what, 600'000));
}

std::size_t parse_page_cap(std::string_view text, std::string_view what) {
  auto value = parse_uint(text, what, 1'000'000'000);
  if (value == 0) throw usage_error(fmt::format("{}: must be at least 1", what));
  return value;
}

std::size_t parse_pad_bytes(std::string_view text, std::string_view what) {
  return parse_uint(text, what, std::size_t{1} << 30);
}

std::string_view usage() {
  return R"(usage: analytics-emulator --listen HOST:PORT --api-key KEY [options]
  --auth-header NAME        header that carries the key (default api_key)
  --auth-query NAME         take the key from this query parameter instead
  --tls-cert FILE --tls-key FILE   serve HTTPS with this certificate chain and key
  --oauth-client-id ID --oauth-client-secret S   OAuth2: POST /oauth/token issues
                            tokens, API requests need `Authorization: Bearer <token>`
  --oauth-scope S           the token request must carry scope=S
  --token-expires-in SEC    lifetime of a token (default 3600)
  --token-max-uses N        API requests one token authorises (default 0: no limit)
  --seed S                  data and fault seed (default 1)
  --records N               records in every list resource
  --records RESOURCE=N      records in one list resource (repeatable)
  --rate-limit RPS          token bucket shared by all API paths (0 = off)
  --retry-after MODE        seconds|date|zero|none|mixed (default seconds)
  --latency-ms MS           delay every API response
  --faults SPEC             name=fraction,... of 5xx, reset, truncate, malformed, drip, 429
  --quirks SPEC             all, none or a list of page_cap, wrapped, empty_no_data,
                            singletons, feed_order, errors_in_200, late_fields
                            (default singletons,feed_order); hostile, never in all:
                            ignore_offset, echo_key, duplicate
  --page-cap N              campaigns page cap under the page_cap quirk (default 25)
  --pad-bytes N             add N bytes of padding to every record of a list page
  --verbose                 log every request to stderr
)";
}

options parse_command_line(const std::vector<std::string>& args) {
  options opts;
  for (std::size_t i = 0; i < resource_count; ++i) opts.records[i] = resources()[i].default_records;
  bool have_listen = false, have_key = false;

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    bool inline_value = false;
    if (auto eq = name.find('='); name.starts_with("--") && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    auto take_value = [&]() -> std::string {
      if (inline_value) return value;
      if (i + 1 >= args.size()) throw usage_error(fmt::format("{}: missing value", name));
      return args[++i];
    };

    if (name == "--help" || name == "-h") {
      opts.help = true;
    } else if (name == "--verbose") {
      opts.verbose = true;
    } else if (name == "--listen") {
      auto v = take_value();
      auto colon = v.rfind(':');
      if (colon == std::string::npos || colon == 0)
        throw usage_error(fmt::format("--listen: expected HOST:PORT, got '{}'", v));
      opts.host = v.substr(0, colon);
      if (opts.host.size() > 2 && opts.host.front() == '[' && opts.host.back() == ']')
        opts.host = opts.host.substr(1, opts.host.size() - 2);
      opts.port =
          static_cast<std::uint16_t>(parse_uint(v.substr(colon + 1), "--listen port", 65535));
      have_listen = true;
    } else if (name == "--api-key") {
      opts.api_key = take_value();
      if (opts.api_key.empty()) throw usage_error("--api-key: must not be empty");
      have_key = true;
    } else if (name == "--auth-header") {
      opts.auth_header = take_value();
      auto valid =
          !opts.auth_header.empty() &&
          opts.auth_header.find_first_not_of(
              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&'*+^`|~") ==
              std::string::npos;
      if (!valid)
        throw usage_error(
            fmt::format("--auth-header: '{}' is not a header name", opts.auth_header));
    } else if (name == "--auth-query") {
      opts.auth_query = take_value();
      if (opts.auth_query.empty()) throw usage_error("--auth-query: must not be empty");
    } else if (name == "--oauth-client-id") {
      opts.oauth_client_id = take_value();
      if (opts.oauth_client_id.empty()) throw usage_error("--oauth-client-id: must not be empty");
    } else if (name == "--oauth-client-secret") {
      opts.oauth_client_secret = take_value();
    } else if (name == "--oauth-scope") {
      opts.oauth_scope = take_value();
    } else if (name == "--token-expires-in") {
      opts.runtime.token_expires_in = parse_uint(take_value(), "--token-expires-in", 366 * 86400);
    } else if (name == "--token-max-uses") {
      opts.runtime.token_max_uses = parse_uint(take_value(), "--token-max-uses", UINT64_MAX);
    } else if (name == "--tls-cert") {
      opts.tls_cert = take_value();
    } else if (name == "--tls-key") {
      opts.tls_key = take_value();
    } else if (name == "--seed") {
      opts.seed = parse_uint(take_value(), "--seed", UINT64_MAX);
    } else if (name == "--records") {
      auto v = take_value();
      constexpr std::uint64_t max_records = 50'000'000;
      if (auto eq = v.find('='); eq != std::string::npos) {
        auto resource = v.substr(0, eq);
        auto r = find_resource_by_name(resource);
        if (r == resource_count)
          throw usage_error(fmt::format("--records: unknown resource '{}'", resource));
        auto n = parse_uint(v.substr(eq + 1), "--records " + resource, max_records);
        if (resources()[r].singleton && n != 1)
          throw usage_error(fmt::format(
              "--records: {} is a singleton and always holds exactly one record", resource));
        opts.records[r] = n;
      } else {
        auto n = parse_uint(v, "--records", max_records);
        for (std::size_t r = 0; r < resource_count; ++r)
          if (!resources()[r].singleton) opts.records[r] = n;
      }
    } else if (name == "--rate-limit") {
      opts.runtime.rate_limit = parse_rate_limit(take_value(), "--rate-limit");
    } else if (name == "--retry-after") {
      opts.runtime.retry_after = parse_retry_after(take_value());
    } else if (name == "--latency-ms") {
      opts.runtime.latency = parse_latency(take_value(), "--latency-ms");
    } else if (name == "--faults") {
      opts.runtime.faults = parse_faults(take_value());
    } else if (name == "--quirks") {
      opts.runtime.quirks = parse_quirks(take_value());
    } else if (name == "--page-cap") {
      opts.runtime.page_cap = parse_page_cap(take_value(), "--page-cap");
    } else if (name == "--pad-bytes") {
      opts.runtime.pad_bytes = parse_pad_bytes(take_value(), "--pad-bytes");
    } else {
      throw usage_error(fmt::format("{}: unknown argument", name));
    }
  }
  if (opts.help) return opts;
  if (!have_listen) throw usage_error("--listen: required (HOST:PORT, port 0 picks a free one)");
  if (!have_key) throw usage_error("--api-key: required");
  if (opts.oauth_client_id.empty() != opts.oauth_client_secret.empty())
    throw usage_error(opts.oauth_client_id.empty()
                          ? "--oauth-client-id: required with --oauth-client-secret"
                          : "--oauth-client-secret: required with --oauth-client-id");
  if (opts.tls_cert.empty() != opts.tls_key.empty())
    throw usage_error(opts.tls_cert.empty() ? "--tls-cert: required with --tls-key"
                                            : "--tls-key: required with --tls-cert");
  return opts;
}

}  // namespace emulator

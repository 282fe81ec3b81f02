#include "app.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>

#include "json_text.hpp"
#include "mutation.hpp"
#include "random.hpp"

namespace emulator {
namespace {

constexpr std::string_view json_type = "application/json; charset=utf-8";
constexpr std::string_view token_path = "/oauth/token";
// POST <search_prefix><resource>: a list resource searched with a JSON body.
constexpr std::string_view search_prefix = "/v1/accounts/current/search/";
constexpr std::uint64_t max_limit = 1'000'000'000;

std::string_view reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

std::string errors_body(int code, std::string_view message) {
  return fmt::format("{{\"_errors\":[{{\"code\":{},\"message\":{}}}]}}", code, quote(message));
}

reply make_reply(int status, std::string body, bool close, std::string_view extra_headers = {},
                 std::string_view content_type = json_type) {
  reply r;
  r.status = status;
  r.close = close;
  r.head = fmt::format(
      "HTTP/1.1 {} {}\r\nServer: analytics-emulator\r\nContent-Type: {}\r\nContent-Length: "
      "{}\r\n{}{}"
      "\r\n",
      status, reason(status), content_type, body.size(), extra_headers,
      close ? "Connection: close\r\n" : "");
  r.body = std::move(body);
  return r;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned value = 0;
    if (s[i] == '%' && i + 2 < s.size() &&
        std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16).ptr == s.data() + i + 3) {
      out += static_cast<char>(value);
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

// The decoded value of a query parameter, if the query has it.
std::optional<std::string> query_param(std::string_view query, std::string_view wanted) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) != wanted) continue;
    return eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

struct paging_params {
  std::uint64_t limit = 50;
  std::uint64_t offset = 0;
  std::string error;
};

paging_params parse_paging(std::string_view query) {
  paging_params p;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq));
    if (name != "limit" && name != "offset") continue;
    auto value = eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1));
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    bool ok = ec == std::errc{} && end == value.data() + value.size() && !value.empty();
    if (name == "limit") {
      if (!ok || n < 1 || n > max_limit) {
        p.error = fmt::format("Invalid limit '{}': expected a whole number from 1 to {}", value,
                              max_limit);
        return p;
      }
      p.limit = n;
    } else {
      if (!ok) {
        p.error = fmt::format("Invalid offset '{}': expected a whole number from 0", value);
        return p;
      }
      p.offset = n;
    }
  }
  return p;
}

}  // namespace

std::string http_date(std::chrono::system_clock::time_point t) {
  auto seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

app::app(options opts, data_set data)
    : opts_(std::move(opts)), data_(std::move(data)), bucket_(opts_.runtime.rate_limit) {
  if (!data_.at(accounts).records.empty()) own_account_ = data_.at(accounts).records.front().key;
}

data_set* app::account_data(std::string_view id) {
  if (id == "current" || id == own_account_) return &data_;
  const auto& listed = data_.at(accounts).records;
  if (std::none_of(listed.begin(), listed.end(), [&](const record& r) { return r.key == id; }))
    return nullptr;
  auto it = other_accounts_.find(id);
  if (it == other_accounts_.end()) {
    std::uint64_t seed = opts_.seed;
    for (unsigned char c : id) seed = mix(seed, 0xacc0ULL, c);
    it = other_accounts_.emplace(std::string(id), std::make_unique<data_set>(seed, opts_.records))
             .first;
  }
  return it->second.get();
}

namespace {

// `/v1/accounts/17/campaigns` → {"17", "/v1/accounts/current/campaigns"};
// nullopt for a path that names no account.
std::optional<std::pair<std::string, std::string>> account_path(std::string_view path) {
  constexpr std::string_view prefix = "/v1/accounts/";
  if (!path.starts_with(prefix)) return std::nullopt;
  auto rest = path.substr(prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  return std::pair{percent_decode(rest.substr(0, slash)),
                   fmt::format("{}current{}", prefix, rest.substr(slash))};
}

}  // namespace

reply app::handle(const request_view& req, clock::time_point now,
                  std::chrono::system_clock::time_point wall) {
  auto target = req.target;
  auto q = target.find('?');
  auto path = target.substr(0, q);
  auto query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  if (path.starts_with("/__")) return control(req, path);
  if (path == token_path) return token_endpoint(req, now);
  return api(req, path, query, now, wall);
}

reply app::api(const request_view& req, std::string_view path, std::string_view query,
               clock::time_point now, std::chrono::system_clock::time_point wall) {
  auto& rt = opts_.runtime;
  bool close = !req.keep_alive;
  // Rolled for every API request, so the n-th request's fault depends on the
  // seed and n alone.
  auto n = api_requests_++;
  auto fault = choose_fault(rt.faults, opts_.seed, n);
  auto resource = find_resource_by_path(path);
  // Per-account paths: any account the key sees, by id.
  data_set* data = &data_;
  bool unknown_account = false;
  std::string account;
  if (auto ap = account_path(path); ap && resource == resource_count) {
    resource = find_resource_by_path(ap->second);
    if (resource != resource_count) {
      account = ap->first;
      data = account_data(account);
      unknown_account = data == nullptr;
    }
  }
  const bool searching = resource == resource_count && path.starts_with(search_prefix);
  if (searching) {
    resource = find_resource_by_name(path.substr(search_prefix.size()));
    if (resource != resource_count && resources()[resource].singleton) resource = resource_count;
  }
  const std::string_view allowed = searching ? "POST" : "GET";

  std::optional<std::string> key;
  if (!opts_.auth_query.empty())
    key = query_param(query, opts_.auth_query);
  else if (req.api_key)
    key = std::string(*req.api_key);
  // echo_key: what careless servers do, repeating the credential in errors.
  auto echoed = [&](std::string message) {
    if (rt.quirks.has(quirk::echo_key)) message += fmt::format(" (key '{}')", key.value_or(""));
    return message;
  };

  reply out;
  bool faultable = false;
  if (resource == resource_count) {
    out =
        make_reply(404, errors_body(404, echoed(fmt::format("No such endpoint: {}", path))), close);
  } else if (req.method != allowed) {
    out = make_reply(405, errors_body(405, fmt::format("{} is not allowed here", req.method)),
                     close, fmt::format("Allow: {}\r\n", allowed));
  } else if (oauth() && !token_accepted(key.value_or(""), now)) {
    out = make_reply(rt.quirks.has(quirk::errors_in_200) ? 200 : 401,
                     errors_body(401, echoed("Invalid or expired token")), close);
  } else if (!oauth() && (!key || *key != opts_.api_key)) {
    out = make_reply(rt.quirks.has(quirk::errors_in_200) ? 200 : 401,
                     errors_body(401, echoed("Invalid API token")), close);
  } else if (unknown_account) {
    // Spends a token like any answered request.
    if (auto wait = bucket_.try_take(now))
      out = rate_limited(*wait, wall, close);
    else
      out = make_reply(404, errors_body(404, fmt::format("No such account: {}", account)), close);
  } else if (fault == fault_kind::too_many) {
    // Refused like an over-limit request, but without spending a token.
    stats_.fault(fault);
    out = rate_limited(bucket_.wait(now), wall, close);
  } else if (auto wait = bucket_.try_take(now)) {
    out = rate_limited(*wait, wall, close);
  } else {
    out = searching ? search(resource, req.body, close) : page(*data, resource, query, close);
    faultable = true;
  }

  if (faultable && fault != fault_kind::none) {
    stats_.fault(fault);
    auto h = mix(opts_.seed, 0x5eedULL, n);
    switch (fault) {
      case fault_kind::server_error: {
        static constexpr int codes[] = {500, 502, 503};
        int status = codes[h % 3];
        if (status == 502) {
          out = make_reply(502, "<html><body><h1>502 Bad Gateway</h1></body></html>\n", close, {},
                           "text/html");
        } else {
          out = make_reply(status, errors_body(status, echoed(std::string(reason(status)))), close);
        }
        break;
      }
      case fault_kind::reset:
        out = reply{};
        out.act = action::reset;
        out.status = 0;
        break;
      case fault_kind::truncate:
        out.act = action::truncate;
        out.cut = out.body.size() / 2;
        break;
      case fault_kind::malformed: {
        std::string body = h % 2 == 0 ? out.body.substr(0, out.body.size() / 2)
                                      : "<html><body>Service temporarily unavailable</body></html>";
        out = make_reply(200, std::move(body), close);
        break;
      }
      case fault_kind::drip:
        out.act = action::drip;
        out.cut = out.body.size() / 2;
        break;
      default:
        break;
    }
  }
  out.delay = rt.latency;
  stats_.request(path, now, out.status != 429);
  stats_.answered(out.status);
  return out;
}

reply app::rate_limited(clock::duration wait, std::chrono::system_clock::time_point wall,
                        bool close) {
  auto mode = opts_.runtime.retry_after;
  if (mode == retry_after_mode::mixed) {
    static constexpr retry_after_mode cycle[] = {retry_after_mode::seconds, retry_after_mode::date,
                                                 retry_after_mode::zero, retry_after_mode::none};
    mode = cycle[retry_afters_++ % 4];
  }
  auto seconds = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::ceil(std::chrono::duration<double>(wait).count())));
  std::string header;
  switch (mode) {
    case retry_after_mode::seconds:
      header = fmt::format("Retry-After: {}\r\n", seconds);
      break;
    case retry_after_mode::date: {
      // Round up: a date that has already passed would invite an early retry.
      auto ready = std::chrono::ceil<std::chrono::seconds>(wall + wait);
      auto floor_next = std::chrono::floor<std::chrono::seconds>(wall) + std::chrono::seconds(1);
      header = fmt::format("Retry-After: {}\r\n", http_date(std::max(ready, floor_next)));
      break;
    }
    case retry_after_mode::zero:
      header = "Retry-After: 0\r\n";
      break;
    default:
      break;
  }
  return make_reply(429, errors_body(429, "Too many requests, slow down"), close, header);
}

reply app::page(data_set& data, std::size_t resource, std::string_view query, bool close) {
  auto params = parse_paging(query);
  if (!params.error.empty()) return make_reply(400, errors_body(400, params.error), close);
  auto& quirks = opts_.runtime.quirks;
  if (quirks.has(quirk::ignore_offset)) params.offset = 0;
  auto& info = resources()[resource];
  std::string body;
  if (info.singleton && quirks.has(quirk::singletons)) {
    body = "{\"_data\":";
    data.append_record(body, resource, data.at(resource).records.front(), quirks);
    body += '}';
    return make_reply(200, std::move(body), close);
  }
  auto n = data.served_size(resource, quirks);
  auto limit = params.limit;
  if (resource == campaigns && quirks.has(quirk::page_cap))
    limit = std::min<std::uint64_t>(limit, opts_.runtime.page_cap);
  auto begin = std::min<std::uint64_t>(params.offset, n);
  auto end = begin + std::min<std::uint64_t>(limit, n - begin);
  if (begin == end && quirks.has(quirk::empty_no_data))
    return make_reply(200, empty_pages_++ % 2 == 0 ? "{}" : "{\"_errors\":[]}", close);

  std::size_t bytes = 64;
  auto& records = data.at(resource).records;
  for (auto p = begin; p < end; ++p)
    bytes += records[data.served_index(resource, p, quirks)].json.size() + 1;
  if (quirks.has(quirk::late_fields)) bytes += (end - begin) * 160;
  const auto pad = opts_.runtime.pad_bytes;
  bytes += (end - begin) * (pad + 16);
  body.reserve(bytes);
  bool wrapped = resource == campaigns && quirks.has(quirk::wrapped);
  body += wrapped ? "{\"_data\":{\"partialCollection\":[" : "{\"_data\":[";
  if (pad == 0 && !data.duplicate_at(resource, quirks)) {
    data.append_range(body, resource, begin, end, quirks);
  } else {
    for (auto p = begin; p < end; ++p) {
      if (p != begin) body += ',';
      data.append_record(body, resource, records[data.served_index(resource, p, quirks)], quirks);
      if (pad == 0) continue;
      body.pop_back();  // the record's closing brace
      body += ",\"pad\":\"";
      body.append(pad, 'x');
      body += "\"}";
    }
  }
  if (wrapped) {
    body += fmt::format("],\"totalCount\":{},\"offset\":{}}}}}", n, params.offset);
  } else {
    body += "]}";
  }
  return make_reply(200, std::move(body), close);
}

bool app::token_accepted(std::string_view authorization, clock::time_point now) {
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() <= scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(scheme[i])))
      return false;
  auto it = tokens_.find(authorization.substr(scheme.size()));
  if (it == tokens_.end() || now >= it->second.expires) return false;
  const auto max = opts_.runtime.token_max_uses;
  if (max != 0 && it->second.uses >= max) return false;
  ++it->second.uses;
  return true;
}

reply app::token_endpoint(const request_view& req, clock::time_point now) {
  const bool close = !req.keep_alive;
  auto oauth_error = [&](int status, std::string_view error, std::string_view description) {
    return make_reply(
        status,
        fmt::format("{{\"error\":{},\"error_description\":{}}}", quote(error), quote(description)),
        close);
  };
  reply out;
  if (!oauth()) {
    out =
        make_reply(404, errors_body(404, "No such endpoint: /oauth/token (OAuth2 is off)"), close);
  } else if (req.method != "POST") {
    out = make_reply(405, errors_body(405, fmt::format("{} is not allowed here", req.method)),
                     close, "Allow: POST\r\n");
  } else {
    const auto form = req.body;
    const auto id = query_param(form, "client_id");
    const auto secret = query_param(form, "client_secret");
    const auto scope = query_param(form, "scope");
    if (query_param(form, "grant_type") != "client_credentials") {
      out = oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials");
    } else if (id != opts_.oauth_client_id || secret != opts_.oauth_client_secret) {
      out = oauth_error(401, "invalid_client", "Client authentication failed");
    } else if (!opts_.oauth_scope.empty() && scope != opts_.oauth_scope) {
      out = oauth_error(400, "invalid_scope", "the scope this client needs was not requested");
    } else {
      const auto n = tokens_issued_++;
      auto token = fmt::format("tok-{:016x}-{}", mix(opts_.seed, 0x70c3e5ULL, n), n);
      const auto lifetime = opts_.runtime.token_expires_in;
      tokens_[token] = issued_token{now + std::chrono::seconds(lifetime), 0};
      out = make_reply(200,
                       fmt::format("{{\"access_token\":{},\"token_type\":\"Bearer\","
                                   "\"expires_in\":{}}}",
                                   quote(token), lifetime),
                       close);
    }
  }
  stats_.request(token_path, now, true);
  stats_.answered(out.status);
  return out;
}

reply app::search(std::size_t resource, std::string_view body, bool close) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject())
    return make_reply(400, errors_body(400, "the body must be a JSON object with `query`"), close);
  if (!d.HasMember("query"))
    return make_reply(400, errors_body(400, "`query` is required in the body"), close);
  // `account`: search another account the key sees (its id, number or string).
  data_set* data = &data_;
  if (auto a = d.FindMember("account"); a != d.MemberEnd()) {
    std::string id = a->value.IsString()   ? std::string(a->value.GetString())
                     : a->value.IsUint64() ? std::to_string(a->value.GetUint64())
                                           : std::string();
    data = account_data(id);
    if (id.empty() || data == nullptr)
      return make_reply(404, errors_body(404, fmt::format("No such account: {}", id)), close);
  }
  std::uint64_t limit = 50, offset = 0;
  std::optional<std::uint64_t> number;
  if (auto p = d.FindMember("page"); p != d.MemberEnd()) {
    if (!p->value.IsObject())
      return make_reply(400, errors_body(400, "`page` must be an object"), close);
    for (auto& m : p->value.GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      if (!m.value.IsUint64())
        return make_reply(
            400, errors_body(400, fmt::format("page.{} must be a whole number", name)), close);
      const auto v = m.value.GetUint64();
      if (name == "limit" || name == "size") {
        if (v < 1 || v > max_limit)
          return make_reply(400, errors_body(400, fmt::format("page.{} out of range", name)),
                            close);
        limit = v;
      } else if (name == "offset") {
        offset = v;
      } else if (name == "number") {
        if (v < 1) return make_reply(400, errors_body(400, "page.number starts at 1"), close);
        number = v;
      }
    }
  }
  if (number) offset = (*number - 1) * limit;
  if (auto c = d.FindMember("cursor"); c != d.MemberEnd() && !c->value.IsNull()) {
    std::string_view cursor =
        c->value.IsString() ? std::string_view(c->value.GetString(), c->value.GetStringLength())
                            : std::string_view();
    std::uint64_t at = 0;
    if (cursor.size() < 2 || cursor[0] != 'o' ||
        std::from_chars(cursor.data() + 1, cursor.data() + cursor.size(), at).ptr !=
            cursor.data() + cursor.size())
      return make_reply(400, errors_body(400, "`cursor` is not a cursor this API gave"), close);
    offset = at;
  }
  auto r = page(*data, resource, fmt::format("limit={}&offset={}", limit, offset), close);
  if (r.status != 200) return r;
  // Where the next page starts, as page() served this one.
  auto& quirks = opts_.runtime.quirks;
  const auto n = data->served_size(resource, quirks);
  auto served = limit;
  if (resource == campaigns && quirks.has(quirk::page_cap))
    served = std::min<std::uint64_t>(served, opts_.runtime.page_cap);
  const auto begin = quirks.has(quirk::ignore_offset) ? 0 : std::min<std::uint64_t>(offset, n);
  const auto end = begin + std::min<std::uint64_t>(served, n - begin);
  std::string out = std::move(r.body);
  out.pop_back();
  if (out.size() > 1) out += ',';
  out += end < n ? fmt::format("\"next_cursor\":\"o{}\"}}", end) : "\"next_cursor\":null}";
  return make_reply(200, std::move(out), close);
}

reply app::control(const request_view& req, std::string_view path) {
  bool close = !req.keep_alive;
  auto method_is = [&](std::string_view m) { return req.method == m; };
  auto wrong_method = [&](std::string_view allowed) {
    return make_reply(405, errors_body(405, fmt::format("use {} for {}", allowed, path)), close,
                      fmt::format("Allow: {}\r\n", allowed));
  };
  if (path.starts_with("/__truth/")) {
    if (!method_is("GET")) return wrong_method("GET");
    auto name = path.substr(9);
    auto r = find_resource_by_name(name);
    if (r == resource_count)
      return make_reply(404, errors_body(404, fmt::format("unknown resource '{}'", name)), close);
    // `?account=ID`: that account's records.
    data_set* data = &data_;
    if (auto a = query_param(
            req.target.substr(std::min(req.target.size(), req.target.find('?') + 1)), "account")) {
      data = account_data(*a);
      if (!data)
        return make_reply(404, errors_body(404, fmt::format("No such account: {}", *a)), close);
    }
    return make_reply(200, data->truth(r, opts_.runtime.quirks), close);
  }
  if (path == "/__stats") {
    if (!method_is("GET")) return wrong_method("GET");
    return make_reply(200, stats_.to_json(), close);
  }
  if (path == "/__stats/reset") {
    if (!method_is("POST")) return wrong_method("POST");
    stats_.reset();
    return make_reply(200, "{\"reset\":true}", close);
  }
  if (path == "/__mutate") {
    if (!method_is("POST")) return wrong_method("POST");
    auto result = apply_mutations(data_, req.body, opts_.runtime.quirks);
    if (!result.ok) return make_reply(400, errors_body(400, result.body), close);
    return make_reply(200, std::move(result.body), close);
  }
  if (path == "/__config") {
    if (method_is("GET")) return make_reply(200, config_json(), close);
    if (!method_is("POST")) return wrong_method("GET, POST");
    return apply_config(req.body, close);
  }
  return make_reply(404, errors_body(404, fmt::format("No such control endpoint: {}", path)),
                    close);
}

reply app::apply_config(std::string_view body, bool close) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject())
    return make_reply(400, errors_body(400, "body must be a JSON object"), close);
  auto next = opts_.runtime;
  bool new_bucket = false;
  try {
    for (auto& m : d.GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      auto& v = m.value;
      auto text = [&] {
        if (!v.IsString()) throw usage_error(fmt::format("{}: must be a string", name));
        return std::string_view(v.GetString(), v.GetStringLength());
      };
      auto number = [&](double max) {
        if (!v.IsNumber() || v.GetDouble() < 0 || v.GetDouble() > max)
          throw usage_error(fmt::format("{}: must be a number from 0 to {}", name, max));
        return v.GetDouble();
      };
      if (name == "faults") {
        next.faults = parse_faults(text());
      } else if (name == "quirks") {
        next.quirks = parse_quirks(text());
      } else if (name == "retry_after") {
        next.retry_after = parse_retry_after(text());
      } else if (name == "rate_limit") {
        next.rate_limit = number(1e9);
        new_bucket = true;
      } else if (name == "latency_ms") {
        if (!v.IsUint64() || v.GetUint64() > 600'000)
          throw usage_error("latency_ms: must be a whole number from 0 to 600000");
        next.latency = std::chrono::milliseconds(v.GetUint64());
      } else if (name == "page_cap") {
        if (!v.IsUint64() || v.GetUint64() < 1)
          throw usage_error("page_cap: must be a whole number from 1");
        next.page_cap = v.GetUint64();
      } else if (name == "token_expires_in") {
        if (!v.IsUint64() || v.GetUint64() > 366 * 86400)
          throw usage_error("token_expires_in: must be a whole number of seconds up to a year");
        next.token_expires_in = v.GetUint64();
      } else if (name == "token_max_uses") {
        if (!v.IsUint64()) throw usage_error("token_max_uses: must be a whole number");
        next.token_max_uses = v.GetUint64();
      } else if (name == "pad_bytes") {
        if (!v.IsUint64() || v.GetUint64() > (std::uint64_t{1} << 30))
          throw usage_error("pad_bytes: must be a whole number from 0 to 1073741824");
        next.pad_bytes = v.GetUint64();
      } else {
        throw usage_error(fmt::format(
            "{}: unknown setting (faults, quirks, rate_limit, latency_ms, retry_after, page_cap, "
            "pad_bytes, token_expires_in, token_max_uses)",
            name));
      }
    }
  } catch (const usage_error& e) {
    return make_reply(400, errors_body(400, e.what()), close);
  }
  opts_.runtime = next;
  if (new_bucket) bucket_ = token_bucket(next.rate_limit);
  return make_reply(200, config_json(), close);
}

std::string app::config_json() const {
  auto& rt = opts_.runtime;
  return fmt::format(
      "{{\"faults\":{},\"quirks\":{},\"rate_limit\":{},\"latency_ms\":{},\"retry_after\":{},"
      "\"page_cap\":{},\"pad_bytes\":{},\"token_expires_in\":{},\"token_max_uses\":{}}}",
      quote(to_string(rt.faults)), quote(to_string(rt.quirks)), rt.rate_limit, rt.latency.count(),
      quote(to_string(rt.retry_after)), rt.page_cap, rt.pad_bytes, rt.token_expires_in,
      rt.token_max_uses);
}

}  // namespace emulator

#include "restsync/plan/describe.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "restsync/config/byte_size.hpp"
#include "restsync/config/duration.hpp"
#include "restsync/http/oauth.hpp"
#include "restsync/overloaded.hpp"
#include "restsync/plan/column_hints.hpp"
#include "restsync/plan/request_query.hpp"
#include "restsync/plan/resource_plan.hpp"

namespace restsync {

namespace {

constexpr std::string_view masked = "***";

void line(std::string& out, int indent, std::string_view label, std::string_view value) {
  fmt::format_to(std::back_inserter(out), "{:{}}{:<19}{}\n", "", indent, label, value);
}

std::string seconds(double s) { return fmt::format("{:g}s", s); }

std::string describe_auth(const config& cfg) {
  const auth_config& a = cfg.client.auth;
  switch (a.type) {
    case auth_type::none:
      return "none";
    case auth_type::bearer:
      return fmt::format("bearer token {}", masked);
    case auth_type::http_basic:
      return fmt::format("http_basic user `{}`, password {}", a.username, masked);
    case auth_type::api_key:
      return fmt::format("api_key in {} `{}`: {}", to_string(a.location), a.name, masked);
    case auth_type::oauth2_client_credentials: {
      std::string s = fmt::format(
          "oauth2_client_credentials: a token from POST {} (client_id {}, client_secret {}",
          a.access_token_url, masked, masked);
      for (const auto& [name, value] : a.access_token_request_data)
        s += fmt::format(", {}={}", name, value);
      const auto lifetime = a.default_token_expiration;
      s += fmt::format(
          "), sent as a bearer token; renewed before it expires (expires_in, else {}: renewed "
          "{} before) and after a 401",
          format_duration(lifetime), format_duration(renewal_margin(lifetime)));
      return s;
    }
  }
  return "?";
}

std::string describe_headers(const config& cfg) {
  if (cfg.client.headers.empty()) return "none";
  std::string out;
  for (const auto& [name, value] : cfg.client.headers) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}: {}", name, value);
  }
  return out;
}

std::string describe_rate_limit(const rate_limit_config& r) {
  if (r.requests_per_second == 0) return "none of our own; 429s still pause every request";
  const std::string burst = r.burst ? std::to_string(*r.burst)
                                    : fmt::format("{:g}", std::max(1.0, r.requests_per_second));
  return fmt::format("{:g} requests/s, burst {}, shared by every resource", r.requests_per_second,
                     burst);
}

std::string describe_tls(const tls_config& tls) {
  if (!tls.verify) return "certificates NOT verified (tls.verify: false)";
  if (tls.ca_file.empty()) return "certificates verified against the system trust store";
  return fmt::format("certificates verified against {}", tls.ca_file);
}

// A dependent resource: where its requests' values come from.
std::string describe_parent(const resource_config& r) {
  const auto& p = *r.parent;
  std::vector<std::string> fills, columns;
  for (const auto& ph : p.placeholders)
    fills.push_back(fmt::format("`{{{}}}` ← {}.{}", ph.name, p.resource, ph.field));
  for (const auto& f : p.fields) columns.push_back(p.column_of(f));
  return fmt::format(
      "one scan per live row of `{}` (its table, rows not marked deleted), after `{}` ran: {}; "
      "each row gets {}",
      p.resource, p.resource, fmt::join(fills, ", "), fmt::join(columns, ", "));
}

// The query of the first request, as the engine builds it; a key sent in
// the query shows as the mask.
query_params first_request_params(const config& cfg, const endpoint_config& e) {
  query_params credentials;
  const auth_config& a = cfg.client.auth;
  if (a.type == auth_type::api_key && a.location == api_key_location::query)
    credentials.emplace_back(a.name, std::string(masked));
  query_params q = run_query(e, first_run_window(e), credentials);
  auto paging = paging_query(e.paginator, first_position(e.paginator));
  q.insert(q.end(), paging.begin(), paging.end());
  return q;
}

// The body of the first request (Content-Type: application/json), as the
// engine builds it; nullopt when it sends none.
// A dependent resource's `{resources.…}` show as themselves.
std::optional<std::string> first_request_body(const endpoint_config& e) {
  const run_request run{
      e.method, "/", run_body(e, first_run_window(e), [](std::string_view name) {
        return std::optional<body_value>(body_value{fmt::format("{{{}}}", name), false});
      })};
  return request_at(run, e.paginator, first_position(e.paginator)).body;
}

// `%7B` and `%7D` as the braces they encode.
std::string unbrace(std::string text) {
  for (auto [from, to] : {std::pair{"%7B", "{"}, std::pair{"%7D", "}"}})
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + 1))
      text.replace(at, 3, to);
  return text;
}

// Percent-encodes text but leaves the masks readable.
std::string encode_around_masks(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t next = text.find(masked, pos);
    out += percent_encode(text.substr(pos, next - pos));
    if (next == std::string_view::npos) return out;
    out += masked;
    pos = next + masked.size();
  }
}

// q appended to url as append_query does, with the masks kept readable.
std::string with_query(std::string url, const query_params& q) {
  bool first = url.find('?') == std::string::npos;
  for (const auto& [name, value] : q) {
    url += first ? '?' : '&';
    first = false;
    url += encode_around_masks(name);
    url += '=';
    url += encode_around_masks(value);
  }
  return url;
}

std::string describe_paginator(const paginator_config& paginator) {
  return std::visit(
      overloaded{
          [](const single_page_paginator&) { return std::string("single_page: one request"); },
          [](const offset_paginator& p) {
            auto where = [](const body_path& path, const std::string& param) {
              return path ? fmt::format("body `{}`", to_string(*path)) : fmt::format("`{}`", param);
            };
            std::string s = fmt::format(
                "offset: {} from {} in steps of the page size, {}={}; ends at an empty page",
                where(p.offset_body_path, p.offset_param), p.offset,
                where(p.limit_body_path, p.limit_param), p.limit);
            if (p.total_path)
              s += fmt::format(" or at the total in `{}`", to_string(*p.total_path));
            if (p.maximum_offset) s += fmt::format(", never past offset {}", *p.maximum_offset);
            return s;
          },
          [](const page_number_paginator& p) {
            std::string s = fmt::format(
                "page_number: {} from {} (first page {}); ends at an empty page",
                p.page_body_path ? fmt::format("body `{}`", to_string(*p.page_body_path))
                                 : fmt::format("`{}`", p.page_param),
                p.page, p.base_page);
            if (p.total_path) {
              s += fmt::format(" or at the page count in `{}`", to_string(*p.total_path));
            }
            if (p.maximum_page) s += fmt::format(", never past page {}", *p.maximum_page);
            return s;
          },
          [](const cursor_paginator& p) {
            return fmt::format("cursor: next cursor from `{}`, sent as {}; ends without one",
                               to_string(p.cursor_path),
                               p.cursor_body_path
                                   ? fmt::format("body `{}`", to_string(*p.cursor_body_path))
                                   : fmt::format("`{}`", p.cursor_param));
          },
          [](const json_link_paginator& p) {
            return fmt::format("json_link: next page's URL from `{}`; ends without one",
                               to_string(p.next_url_path));
          },
          [](const header_link_paginator& p) {
            return fmt::format("header_link: next page from the Link header, rel=\"{}\"",
                               p.links_next_key);
          },
      },
      paginator);
}

std::string describe_error_handler(const error_handler_config& h) {
  std::vector<int> others;
  bool rate_limit_listed = false;
  for (int code : h.retry_on_status_codes) {
    if (code == 429) {
      rate_limit_listed = true;
    } else if (code < 500) {
      others.push_back(code);
    }
  }
  std::string s = others.empty() ? std::string("retry 5xx")
                                 : fmt::format("retry 5xx and {}", fmt::join(others, ", "));
  s += fmt::format(" up to {} times, waiting {}·2^(n-1) (at most {}); ", h.max_retries,
                   seconds(h.backoff_factor), format_duration(h.max_backoff));
  if (rate_limit_listed) {
    s += fmt::format(
        "429 slows the gate and is waited out for up to {}{} (each wait at least {}, failing on "
        "a Retry-After over {})",
        format_duration(h.max_rate_limit_wait),
        h.max_rate_limit_retries ? fmt::format(" or {} times", *h.max_rate_limit_retries) : "",
        format_duration(h.min_rate_limit_wait), format_duration(h.max_retry_after));
  } else {
    s += "429 fails at once (not in retry_on_status_codes)";
  }
  return s;
}

std::string describe_response_actions(const std::vector<response_action>& actions) {
  std::vector<std::string> each;
  for (const auto& a : actions) {
    std::string m;
    if (a.status_code) m = fmt::format("status {}", *a.status_code);
    if (a.content) m += fmt::format("{}body contains \"{}\"", m.empty() ? "" : " and ", *a.content);
    each.push_back(std::move(m));
  }
  return fmt::format("ignore a response with {} (no records, scan ends, not complete)",
                     fmt::join(each, ", or "));
}

std::string describe_incremental(const incremental_config& inc) {
  std::string s = fmt::format("cursor `{}`", to_string(inc.cursor_path));
  if (inc.order != row_order::unordered) s += fmt::format(" ({})", to_string(inc.order));
  if (inc.initial_value) s += fmt::format(", from `{}`", *inc.initial_value);
  if (inc.end_value) s += fmt::format(", until `{}`", *inc.end_value);
  if (!inc.start_param.empty()) s += fmt::format(", start sent as `{}`", inc.start_param);
  if (!inc.end_param.empty()) s += fmt::format(", end sent as `{}`", inc.end_param);
  s += fmt::format(", lag {}, missing cursor: {}", format_duration(inc.lag),
                   to_string(inc.on_cursor_value_missing));
  return s;
}

void mask_all(const secret_set& secrets, std::string& s) { s = secrets.mask(s); }
void mask_all(const secret_set& secrets, std::optional<std::string>& s) {
  if (s) mask_all(secrets, *s);
}
void mask_all(const secret_set& secrets, std::vector<std::string>& v) {
  for (auto& s : v) mask_all(secrets, s);
}
void mask_all(const secret_set& secrets, std::optional<json_path>& p) {
  if (p) mask_all(secrets, *p);
}
void mask_all(const secret_set& secrets, query_params& q) {
  for (auto& [name, value] : q) {
    mask_all(secrets, name);
    mask_all(secrets, value);
  }
}

// A copy of cfg with every secret replaced by `***` in every string that came
// from the file. Masking value by value, rather than the finished text, keeps
// a short secret from eating into the plan's own words.
// `created_on timestamp (timestamptz), not null; amount decimal (numeric(10,2))`.
std::string describe_columns(const std::vector<column_hint_config>& columns) {
  std::string out;
  for (const auto& h : columns) {
    if (!out.empty()) out += "; ";
    out += h.name;
    if (h.data_type) {
      out += fmt::format(" {} ({})", to_string(*h.data_type), sql_type(column_type_of(h)));
    } else {
      out += " (type from the values)";
    }
    if (h.primary_key) out += ", primary key";
    if (!h.nullable && !h.primary_key) out += ", not null";
  }
  return out + "; a value that does not fit goes to <column>__v_<type>";
}

config masked_copy(const config& cfg) {
  config m = cfg;
  const secret_set& s = cfg.secrets;
  mask_all(s, m.source);
  mask_all(s, m.destination.connection);
  mask_all(s, m.destination.schema);
  client_config& c = m.client;
  mask_all(s, c.base_url);
  mask_all(s, c.auth.username);
  mask_all(s, c.auth.name);
  mask_all(s, c.auth.access_token_url);
  mask_all(s, c.auth.access_token_request_data);
  mask_all(s, c.headers);
  mask_all(s, c.tls.ca_file);
  for (auto& r : m.resources) {
    mask_all(s, r.name);
    mask_all(s, r.primary_key);
    for (auto& h : r.columns) mask_all(s, h.name);
    endpoint_config& e = r.endpoint;
    mask_all(s, e.path);
    mask_all(s, e.params);
    mask_all(s, e.json);
    mask_all(s, e.data_selector);
    for (auto& p : e.data_selectors) mask_all(s, p);
    std::visit(overloaded{
                   [](single_page_paginator&) {},
                   [&s](offset_paginator& p) {
                     mask_all(s, p.offset_param);
                     mask_all(s, p.limit_param);
                     mask_all(s, p.total_path);
                     mask_all(s, p.offset_body_path);
                     mask_all(s, p.limit_body_path);
                   },
                   [&s](page_number_paginator& p) {
                     mask_all(s, p.page_param);
                     mask_all(s, p.total_path);
                     mask_all(s, p.page_body_path);
                   },
                   [&s](cursor_paginator& p) {
                     mask_all(s, p.cursor_path);
                     mask_all(s, p.cursor_param);
                     mask_all(s, p.cursor_body_path);
                   },
                   [&s](json_link_paginator& p) { mask_all(s, p.next_url_path); },
                   [&s](header_link_paginator& p) { mask_all(s, p.links_next_key); },
               },
               e.paginator);
    if (e.incremental) {
      incremental_config& inc = *e.incremental;
      mask_all(s, inc.cursor_path);
      mask_all(s, inc.initial_value);
      mask_all(s, inc.end_value);
      mask_all(s, inc.start_param);
      mask_all(s, inc.end_param);
    }
  }
  return m;
}

// One selector as is; alternatives in the order they are tried.
std::string describe_data_selector(const endpoint_config& e) {
  if (e.data_selectors.empty()) return to_string(e.data_selector);
  std::string out;
  for (const auto& p : e.data_selectors) {
    out += fmt::format("{}`{}`", out.empty() ? "" : ", else ", to_string(p));
  }
  return out +
         " (the first that reaches records; a body none of them finds is empty; no total is "
         "read inside the records chosen)";
}

std::string describe_schedule(const schedule_config& s) {
  std::string out = fmt::format("every {}", format_duration(s.interval));
  if (s.jitter.count() > 0) out += fmt::format(" plus up to {}", format_duration(s.jitter));
  out += fmt::format("; after a failure again in {}, doubling, at most every {}",
                     format_duration(std::min(s.failure_backoff, s.interval)),
                     format_duration(s.interval));
  return out;
}

}  // namespace

std::string describe_plan(const config& unmasked) {
  const config cfg = masked_copy(unmasked);
  std::string out = fmt::format("configuration {}\n\n", cfg.source);
  if (auto n = unmasked.secrets.count_shorter_than(short_secret_length))
    out += fmt::format(
        "warning: {} secret{} shorter than {} characters, masked only where a whole value is "
        "the secret: inside other values below it shows. Use longer secrets.\n\n",
        n, n == 1 ? " is" : "s are", short_secret_length);

  out += "destination\n";
  line(out, 2, "connection",
       cfg.destination.connection.empty()
           ? "libpq defaults (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD or ~/.pgpass)"
           : cfg.destination.connection);
  line(out, 2, "schema", cfg.destination.schema);
  line(out, 2, "connections", std::to_string(cfg.destination.connections));

  const client_config& c = cfg.client;
  out += "\nclient\n";
  line(out, 2, "base_url", c.base_url);
  line(out, 2, "auth", describe_auth(cfg));
  line(out, 2, "headers", describe_headers(cfg));
  line(out, 2, "rate_limit", describe_rate_limit(c.rate_limit));
  line(out, 2, "max_in_flight", fmt::format("{} pages per resource", c.max_in_flight));
  line(out, 2, "timeout",
       fmt::format("connect {}, read {}", format_duration(c.timeout.connect),
                   format_duration(c.timeout.read)));
  line(out, 2, "max_body_bytes", format_byte_size(c.max_body_bytes));
  line(out, 2, "memory_budget", format_byte_size(c.memory_budget));
  line(out, 2, "tls", describe_tls(c.tls));

  out += fmt::format("\nresources ({})\n", cfg.resources.size());
  for (const auto& r : cfg.resources) {
    const endpoint_config& e = r.endpoint;
    out += fmt::format("\n  {}\n", r.name);
    auto request =
        fmt::format("{} {}", to_string(e.method),
                    with_query(plan_resource(c, r).endpoint_url, first_request_params(cfg, e)));
    // A dependent resource's placeholders show as written, not encoded.
    if (r.parent) request = unbrace(std::move(request));
    line(out, 4, "first request", request);
    if (auto body = first_request_body(e)) line(out, 4, "body", *body);
    if (r.parent) line(out, 4, "parent", describe_parent(r));
    line(out, 4, "primary_key",
         r.primary_key.empty() ? std::string("none")
                               : fmt::format("{}", fmt::join(r.primary_key, ", ")));
    line(out, 4, "write_disposition", to_string(r.write_disposition));
    if (!r.columns.empty()) line(out, 4, "columns", describe_columns(r.columns));
    line(out, 4, "data_selector", describe_data_selector(e));
    line(out, 4, "paginator", describe_paginator(e.paginator));
    line(out, 4, "error_handler", describe_error_handler(e.error_handler));
    if (!e.response_actions.empty())
      line(out, 4, "response_actions", describe_response_actions(e.response_actions));
    line(out, 4, "incremental", e.incremental ? describe_incremental(*e.incremental) : "no");
    line(out, 4, "schedule", describe_schedule(r.schedule));
    if (r.full_scan_every) {
      line(out, 4, "full_scan_every", format_duration(*r.full_scan_every));
    }
    const char* deletions =
        r.write_disposition == disposition::append    ? "none (append keeps every row)"
        : r.write_disposition == disposition::replace ? "the table is replaced by each complete run"
        : r.endpoint.incremental && !r.full_scan_every
            ? "none (incremental without full_scan_every)"
        : r.hard_delete ? "rows deleted (hard_delete) after a sound complete scan"
                        : "rows marked in _rs_deleted_at after a sound complete scan";
    line(out, 4, "deletions",
         r.parent ? fmt::format("{}, per {} row; {}", deletions, r.parent->resource,
                                r.parent->on_parent_deleted == parent_deleted_action::keep
                                    ? "rows of a vanished parent are kept"
                                    : "rows of a vanished parent are marked too")
                  : std::string(deletions));
    if (r.max_age) line(out, 4, "max_age", format_duration(*r.max_age));
  }
  out += "\nrestsyncd run\n";
  line(out, 2, "shutdown_timeout", format_duration(cfg.daemon.shutdown_timeout));
  line(out, 2, "log level", to_string(cfg.log.level));
  line(out, 2, "metrics",
       cfg.metrics.listen ? fmt::format("http://{}/metrics", to_string(*cfg.metrics.listen))
                          : std::string("off"));
  return out;
}

}  // namespace restsync

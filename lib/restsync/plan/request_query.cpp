#include "restsync/plan/request_query.hpp"

#include <chrono>
#include <variant>

#include "restsync/incremental/cursor.hpp"

namespace restsync {

window_text first_run_window(const endpoint_config& e) {
  window_text w;
  if (!e.incremental) return w;
  const auto& inc = *e.incremental;
  w.initial = inc.initial_value;
  std::optional<cursor_value> start, end;
  if (inc.initial_value) start = parse_cursor_config(*inc.initial_value);
  if (inc.end_value) end = parse_cursor_config(*inc.end_value);
  if (start && inc.lag.count() > 0)
    start = minus(*start, std::chrono::duration_cast<std::chrono::microseconds>(inc.lag));
  if (start) w.start = start->text;
  if (end) w.end = end->text;
  return w;
}

query_params run_query(const endpoint_config& e, const window_text& w,
                       const query_params& credentials) {
  query_params q = e.params;
  if (e.incremental) {
    const auto& inc = *e.incremental;
    q = expand_incremental_placeholders(q, w.start, w.end, w.initial);
    if (!inc.start_param.empty() && w.start) q.emplace_back(inc.start_param, *w.start);
    if (!inc.end_param.empty() && w.end) q.emplace_back(inc.end_param, *w.end);
  }
  q.insert(q.end(), credentials.begin(), credentials.end());
  return q;
}

placeholder_lookup window_placeholders(const window_text& w) {
  return [w](std::string_view name) -> std::optional<body_value> {
    const std::optional<std::string>* v = nullptr;
    if (name == "incremental.start_value") v = &w.start;
    if (name == "incremental.end_value") v = &w.end;
    if (name == "incremental.initial_value") v = &w.initial;
    if (v == nullptr || !*v) return std::nullopt;
    return as_body_value(**v);
  };
}

std::optional<std::string> run_body(const endpoint_config& e, const window_text& w,
                                    const placeholder_lookup& more) {
  if (!e.json) return std::nullopt;
  if (!more) return fill_body(*e.json, window_placeholders(w));
  auto window = window_placeholders(w);
  return fill_body(*e.json, [&](std::string_view name) {
    return name.starts_with("incremental.") ? window(name) : more(name);
  });
}

query_params paging_query(const paginator_config& p, std::int64_t position) {
  query_params q;
  if (auto* o = std::get_if<offset_paginator>(&p)) {
    if (!o->limit_body_path) q.emplace_back(o->limit_param, std::to_string(o->limit));
    if (!o->offset_body_path) q.emplace_back(o->offset_param, std::to_string(position));
  } else if (auto* n = std::get_if<page_number_paginator>(&p)) {
    if (!n->page_body_path) q.emplace_back(n->page_param, std::to_string(position));
  }
  return q;
}

std::vector<body_field> paging_fields(const paginator_config& p, std::int64_t position) {
  std::vector<body_field> f;
  auto number = [](std::int64_t n) { return body_value{std::to_string(n), true}; };
  if (auto* o = std::get_if<offset_paginator>(&p)) {
    if (o->offset_body_path) f.push_back({*o->offset_body_path, number(position)});
    if (o->limit_body_path) f.push_back({*o->limit_body_path, number(o->limit)});
  } else if (auto* n = std::get_if<page_number_paginator>(&p)) {
    if (n->page_body_path) f.push_back({*n->page_body_path, number(position)});
  }
  return f;
}

namespace {

http_request with_fields(const run_request& run, std::string target,
                         const std::vector<body_field>& fields) {
  http_request r;
  r.method = run.method;
  r.target = std::move(target);
  if (!fields.empty())
    r.body = write_fields(run.body ? std::string_view(*run.body) : std::string_view{}, fields);
  else
    r.body = run.body;
  return r;
}

}  // namespace

http_request request_at(const run_request& run, const paginator_config& p, std::int64_t position) {
  return with_fields(run, append_query(run.target, paging_query(p, position)),
                     paging_fields(p, position));
}

http_request request_with_cursor(const run_request& run, const cursor_paginator& p,
                                 const std::string& cursor, bool cursor_is_number) {
  if (!p.cursor_body_path)
    return with_fields(run, append_query(run.target, {{p.cursor_param, cursor}}), {});
  return with_fields(run, run.target, {{*p.cursor_body_path, {cursor, cursor_is_number}}});
}

std::int64_t first_position(const paginator_config& p) {
  if (auto* o = std::get_if<offset_paginator>(&p)) return o->offset;
  if (auto* n = std::get_if<page_number_paginator>(&p)) return n->page;
  return 0;
}

}  // namespace restsync

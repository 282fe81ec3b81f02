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

query_params paging_query(const paginator_config& p, std::int64_t position) {
  if (auto* o = std::get_if<offset_paginator>(&p))
    return {{o->limit_param, std::to_string(o->limit)},
            {o->offset_param, std::to_string(position)}};
  if (auto* n = std::get_if<page_number_paginator>(&p))
    return {{n->page_param, std::to_string(position)}};
  return {};
}

std::int64_t first_position(const paginator_config& p) {
  if (auto* o = std::get_if<offset_paginator>(&p)) return o->offset;
  if (auto* n = std::get_if<page_number_paginator>(&p)) return n->page;
  return 0;
}

}  // namespace restsync

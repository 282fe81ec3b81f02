#include "restsync/plan/resource_plan.hpp"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "restsync/plan/limits.hpp"

namespace restsync {
namespace {

std::string dotted(const std::optional<json_path>& p) { return p ? to_string(*p) : std::string{}; }

}  // namespace

page_spec spec_for(const endpoint_config& e) {
  std::string total, next;
  std::visit(
      [&](const auto& p) {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, offset_paginator> ||
                      std::is_same_v<P, page_number_paginator>)
          total = dotted(p.total_path);
        else if constexpr (std::is_same_v<P, cursor_paginator>)
          next = to_string(p.cursor_path);
        else if constexpr (std::is_same_v<P, json_link_paginator>)
          next = to_string(p.next_url_path);
      },
      e.paginator);
  if (!e.data_selectors.empty()) {
    std::vector<std::string> selectors;
    for (const auto& s : e.data_selectors) selectors.push_back(to_string(s));
    return page_spec(selectors, total, next);
  }
  return page_spec(e.data_selector.empty() ? "$" : to_string(e.data_selector), total, next);
}

retry_settings retry_settings_for(const error_handler_config& h) {
  retry_settings s;
  s.retry_on_status_codes = h.retry_on_status_codes;
  s.max_retries = h.max_retries;
  s.backoff_factor = h.backoff_factor;
  s.max_backoff = h.max_backoff;
  s.max_rate_limit_retries = h.max_rate_limit_retries;
  s.max_rate_limit_wait = h.max_rate_limit_wait;
  s.max_retry_after = h.max_retry_after;
  s.min_rate_limit_wait = h.min_rate_limit_wait;
  return s;
}

rate_gate_settings gate_settings(const rate_limit_config& r) {
  rate_gate_settings s;
  s.requests_per_second = r.requests_per_second;
  if (r.burst) s.burst = static_cast<double>(*r.burst);
  return s;
}

net::http_settings http_settings_for(const config& cfg) {
  net::http_settings s;
  s.connect_timeout = cfg.client.timeout.connect;
  s.read_timeout = cfg.client.timeout.read;
  s.max_body_bytes = static_cast<std::size_t>(cfg.client.max_body_bytes);
  s.tls_verify = cfg.client.tls.verify;
  s.ca_file = cfg.client.tls.ca_file;
  s.max_idle_connections = static_cast<std::size_t>(
      std::max(limits::min_idle_connections,
               cfg.client.max_in_flight * static_cast<int>(cfg.resources.size())));
  return s;
}

resource_plan plan_resource(const client_config& client, const resource_config& resource) {
  return resource_plan{&resource,
                       resource_url(client, resource.endpoint),
                       spec_for(resource.endpoint),
                       retry_settings_for(resource.endpoint.error_handler),
                       resource.write_disposition,
                       resource.endpoint.incremental ? &*resource.endpoint.incremental : nullptr};
}

}  // namespace restsync

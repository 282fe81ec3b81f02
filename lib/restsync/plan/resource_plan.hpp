// What the engine needs of the configuration to run a resource, resolved
// once instead of on every run: the endpoint's URL, where a body's records
// and hints sit, the retry rules, the write disposition and the incremental
// settings; and the client-wide rate gate and HTTP settings. The queries
// themselves come from the one request builder, request_query.hpp.
#pragma once

#include "restsync/config/config.hpp"
#include "restsync/flow/rate_gate.hpp"
#include "restsync/flow/retry_policy.hpp"
#include "restsync/http/settings.hpp"
#include "restsync/paging/page.hpp"

namespace restsync {

struct resource_plan {
  // The resource planned; it must outlive the plan.
  const resource_config* resource = nullptr;
  // The endpoint's absolute URL, without the query (resource_url).
  std::string endpoint_url;
  // Where a body's records, total and next hint sit.
  page_spec spec;
  retry_settings retry;
  disposition write = disposition::merge;
  // endpoint.incremental, null without.
  const incremental_config* incremental = nullptr;
};

// Throws std::invalid_argument for a path page_spec refuses (an empty key).
resource_plan plan_resource(const client_config& client, const resource_config& resource);

// The page spec of an endpoint: its data selector (`$` when empty), the
// total_path of offset and page_number, the cursor_path or next_url_path.
page_spec spec_for(const endpoint_config& e);

// error_handler as the retry policy's settings.
retry_settings retry_settings_for(const error_handler_config& h);

// The shared rate gate of every resource.
rate_gate_settings gate_settings(const rate_limit_config& r);

// The HTTP client's settings, one client per origin: the pool keeps enough
// idle connections for every resource's window of requests.
net::http_settings http_settings_for(const config& cfg);

}  // namespace restsync

// The requests of a resource (method, query string and body), built in one
// place for the engine, which sends them, and for check-config, which prints
// the first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "restsync/config/config.hpp"
#include "restsync/http/request.hpp"
#include "restsync/http/url.hpp"
#include "restsync/plan/request_body.hpp"

namespace restsync {

// What an incremental window puts into requests, as text.
struct window_text {
  std::optional<std::string> start;  // lag applied
  std::optional<std::string> end;
  std::optional<std::string> initial;  // incremental.initial_value as written
};

// The window of a resource's first run, with no stored cursor:
// initial_value moved back by lag, to end_value. Empty without incremental.
window_text first_run_window(const endpoint_config& e);

// What every request of a run carries, in this order: the endpoint's params
// with their {incremental.*} placeholders filled (a param whose placeholder
// has no value is left out), the incremental start_param and end_param,
// then the credentials sent in the query.
query_params run_query(const endpoint_config& e, const window_text& w,
                       const query_params& credentials);

// The body every request of a run starts from: endpoint.json with the
// window's values in its placeholders (fill_body); nullopt without `json`.
// more: the values of other placeholders (a dependent resource's
// `{resources.<parent>.<field>}`).
std::optional<std::string> run_body(const endpoint_config& e, const window_text& w,
                                    const placeholder_lookup& more = {});

// The values of the {incremental.*} placeholders: a JSON number literal
// (an epoch cursor) is a number, anything else a string.
placeholder_lookup window_placeholders(const window_text& w);

// What paging adds to the query of the request at position (an offset, a
// page number): limit then offset, or the page; nothing for the other
// paginators, nor for what goes into the body (a *_body_path).
query_params paging_query(const paginator_config& p, std::int64_t position);

// What paging writes into the body of the request at position: the offset
// and the limit at their *_body_path, or the page at page_body_path.
std::vector<body_field> paging_fields(const paginator_config& p, std::int64_t position);

// What every request of a run shares: its method, the target with the
// run's query (run_query), and the run's body (run_body).
struct run_request {
  http_method method = http_method::get;
  std::string target;
  std::optional<std::string> body;
};

// The request at position: paging_query appended to the run's target,
// paging_fields written into its body (into `{}` when the run has none).
http_request request_at(const run_request& run, const paginator_config& p, std::int64_t position);

// The request of a cursor paginator's next page: the cursor as its
// cursor_param, or at cursor_body_path (a number as a number, as the API
// sent it).
http_request request_with_cursor(const run_request& run, const cursor_paginator& p,
                                 const std::string& cursor, bool cursor_is_number);

// The position a scan starts at: offset's `offset`, page_number's `page`, else 0.
std::int64_t first_position(const paginator_config& p);

}  // namespace restsync

// The query strings of a resource's requests, built in one place for the
// engine, which sends them, and for check-config, which prints the first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "restsync/config/config.hpp"
#include "restsync/http/url.hpp"

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

// What paging adds for the request at position (an offset, a page number):
// limit then offset, or the page; nothing for the other paginators.
query_params paging_query(const paginator_config& p, std::int64_t position);

// The position a scan starts at: offset's `offset`, page_number's `page`, else 0.
std::int64_t first_position(const paginator_config& p);

}  // namespace restsync

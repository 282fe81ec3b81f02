// The resolved restsync configuration: plain values with every default filled
// in and every ${…} reference substituted, as load_config() (config_load.hpp)
// returns it. Keys mirror dlt's rest_api_source; docs/configuration.md is the
// reference for each of them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "restsync/config/secrets.hpp"
#include "restsync/http/request.hpp"
#include "restsync/http/url.hpp"
#include "restsync/observe/log.hpp"

namespace restsync {

using std::chrono::milliseconds;

// A path into a JSON document split at its dots: `_data.partialCollection` is
// {"_data", "partialCollection"}. Empty means the whole document (`$`).
using json_path = std::vector<std::string>;

// `_data.partialCollection`, or `$` for the whole document.
std::string to_string(const json_path& path);

enum class auth_type { none, bearer, http_basic, api_key, oauth2_client_credentials };
enum class api_key_location { header, query };

struct auth_config {
  auth_type type = auth_type::none;
  std::string token;                   // bearer
  std::string username;                // http_basic
  std::string password;                // http_basic
  std::string name = "Authorization";  // api_key: the header or query parameter
  std::string api_key;
  api_key_location location = api_key_location::header;
  // oauth2_client_credentials (dlt's OAuth2ClientCredentials): a token from
  // access_token_url, fetched with client_id and client_secret (form-encoded,
  // grant_type=client_credentials, then access_token_request_data), sent as
  // a bearer token; its lifetime is the response's expires_in, else
  // default_token_expiration.
  std::string access_token_url;
  std::string client_id;
  std::string client_secret;
  query_params access_token_request_data;  // in file order
  milliseconds default_token_expiration{3600 * 1000};
};

// The process-wide token bucket every request passes.
struct rate_limit_config {
  double requests_per_second = 1.0;  // 0: no limit of our own (429s still pause)
  std::optional<int> burst;          // absent: max(1, requests_per_second)
};

struct timeout_config {
  milliseconds connect{10'000};
  milliseconds read{30'000};  // from the request sent to the whole response read
};

struct tls_config {
  bool verify = true;
  std::string ca_file;  // empty: the system's trust store
};

struct client_config {
  std::string base_url;
  auth_config auth;
  query_params headers;  // in file order
  rate_limit_config rate_limit;
  int max_in_flight = 4;  // pages of one resource requested concurrently
  timeout_config timeout;
  std::int64_t max_body_bytes = std::int64_t{64} << 20;
  // Response bodies and parsed pages held at once, all resources together,
  // counted as page_memory_factor times their bodies' bytes.
  std::int64_t memory_budget = std::int64_t{256} << 20;
  tls_config tls;
};

struct single_page_paginator {};

// A paginator's *_body_path: where in the JSON body of a POST the position
// goes instead of a query parameter; nested objects are made as needed.
using body_path = std::optional<json_path>;

struct offset_paginator {
  std::int64_t limit = 50;
  std::int64_t offset = 0;              // of the first page
  std::string offset_param = "offset";  // unused with offset_body_path
  std::string limit_param = "limit";    // unused with limit_body_path
  body_path offset_body_path;
  body_path limit_body_path;
  std::optional<json_path> total_path;         // where the response reports the record count
  std::optional<std::int64_t> maximum_offset;  // stop before requesting past it
  // A page shorter than one the scan was served ends it (restsync's own
  // key); false for APIs whose pages vary in size.
  bool stop_on_short_page = true;
};

struct page_number_paginator {
  std::int64_t base_page = 0;       // the number of the API's first page
  std::int64_t page = 0;            // the page to start at; defaults to base_page
  std::string page_param = "page";  // unused with page_body_path
  body_path page_body_path;
  std::optional<json_path> total_path;  // where the response reports the page count
  std::optional<std::int64_t> maximum_page;
};

// The next page's cursor sits in the body and goes back as a query
// parameter, or into the request's body at cursor_body_path.
struct cursor_paginator {
  json_path cursor_path{"cursors", "next"};
  std::string cursor_param = "cursor";  // unused with cursor_body_path
  body_path cursor_body_path;
};

// The next page's whole URL sits in the body.
struct json_link_paginator {
  json_path next_url_path{"next"};
};

// The next page's URL comes in the Link response header.
struct header_link_paginator {
  std::string links_next_key = "next";
};

using paginator_config =
    std::variant<single_page_paginator, offset_paginator, page_number_paginator, cursor_paginator,
                 json_link_paginator, header_link_paginator>;

// The `type` the configuration uses for it: `offset`, `json_link`, ….
std::string_view paginator_type_name(const paginator_config& p);

// When and how often a failed request is retried (retry_policy.hpp has the
// rules these numbers feed).
struct error_handler_config {
  // 429 is flow control only when listed; every 5xx is retried regardless.
  std::vector<int> retry_on_status_codes{429, 500, 502, 503, 504};
  int max_retries = 3;
  // The n-th retry waits backoff_factor * 2^(n-1) seconds, at most max_backoff.
  double backoff_factor = 2.0;
  milliseconds max_backoff{60'000};
  // 429s are flow control, not failures: they are waited out (as Retry-After
  // says), never counted against max_retries. A request fails when it has
  // met nothing but 429s for max_rate_limit_wait, or (when set) after
  // max_rate_limit_retries of them.
  std::optional<int> max_rate_limit_retries;
  milliseconds max_rate_limit_wait{15 * 60 * 1000};
  milliseconds max_retry_after{15 * 60 * 1000};  // a longer Retry-After fails at once
  milliseconds min_rate_limit_wait{1000};        // so that `Retry-After: 0` cannot spin
};

enum class row_order { unordered, asc, desc };
enum class missing_cursor_action { raise, include, exclude };

struct incremental_config {
  json_path cursor_path;
  std::optional<std::string> initial_value;
  std::optional<std::string> end_value;
  milliseconds lag{0};
  row_order order = row_order::unordered;
  missing_cursor_action on_cursor_value_missing = missing_cursor_action::raise;
  std::string start_param;  // empty: the start value is not sent
  std::string end_param;    // empty: the end value is not sent
};

// One entry of dlt's `response_actions` (action `ignore`, the only one that
// ports): a response matches when it has status_code (when set) and its
// body contains content (when set); at least one of the two is set.
struct response_action {
  std::optional<int> status_code;
  std::optional<std::string> content;

  bool operator==(const response_action&) const = default;
};

struct endpoint_config {
  std::string path;  // relative to base_url, or an absolute http(s) URL
  http_method method = http_method::get;
  // dlt's `json`: the body of a POST as JSON text, its strings templates
  // with placeholders (plan/request_body.hpp fills them per run). Absent:
  // no body, unless a paginator writes its position into one.
  std::optional<std::string> json;
  query_params params;      // in file order; numbers and booleans as written
  json_path data_selector;  // empty: the whole body
  // A list of two or more selectors, one per shape of the body, tried in
  // order (page.hpp); data_selector is then the first. Empty: data_selector alone.
  std::vector<json_path> data_selectors;
  paginator_config paginator;
  error_handler_config error_handler;
  // Responses that end the scan as "no records here" (flow/response_class.hpp).
  std::vector<response_action> response_actions;
  std::optional<incremental_config> incremental;
};

enum class disposition { merge, append, replace };

struct schedule_config {
  milliseconds interval{15 * 60 * 1000};  // between the starts of two runs
  // Each wait is lengthened by a random amount up to this, so that resources
  // sharing an interval do not all start at the same instant.
  milliseconds jitter{0};
  // A failed run is retried this much later, doubling with each consecutive
  // failure, but never later than the regular interval.
  milliseconds failure_backoff{30'000};

  bool operator==(const schedule_config&) const = default;
};

// dlt's dependent resources: the endpoint's path (or a params value) names
// a field of another resource, `{resources.accounts.id}`, or (dlt's older
// form) `{account_id}` with `params: {account_id: {type: resolve, resource:
// accounts, field: id}}`. The resource is then read once per live row of its
// parent's table, with the placeholders filled from that row.
struct parent_placeholder {
  std::string name;   // as the template writes it: `resources.accounts.id`, `account_id`
  std::string field;  // the parent's top-level field: `id`

  bool operator==(const parent_placeholder&) const = default;
};

// What a vanished parent (its row marked deleted, or gone) does to the rows
// its children got from it.
enum class parent_deleted_action { keep, remove };

struct parent_config {
  std::string resource;                          // `accounts`
  std::vector<parent_placeholder> placeholders;  // in order of first use
  // The parent's fields copied into every child row, each as the column
  // `_<parent>_<field>` (dlt's naming): the placeholders' fields first, then
  // include_from_parent's, each once.
  std::vector<std::string> fields;
  // include_from_parent as written (a subset of fields).
  std::vector<std::string> include;
  parent_deleted_action on_parent_deleted = parent_deleted_action::keep;

  // The child column of a parent field: `_accounts_id`.
  std::string column_of(std::string_view field) const;
  // The child columns of the placeholders' fields: a parent's scan is the
  // child rows that hold its values there.
  std::vector<std::string> key_columns() const;
};

// dlt's column data types that restsync stores (`columns: {x: {data_type: …}}`).
enum class column_data_type { text, bigint, double_, bool_, timestamp, date, decimal, json };

// One entry of a resource's `columns` (dlt's column hints), by column name.
struct column_hint_config {
  std::string name;  // the column as the table names it (snake_case)
  std::optional<column_data_type> data_type;
  bool nullable = true;  // false: NOT NULL
  int precision = 0;     // decimal only: numeric(precision, scale) when > 0
  int scale = 0;
  bool primary_key = false;

  bool operator==(const column_hint_config&) const = default;
};

struct resource_config {
  std::string name;
  std::vector<std::string> primary_key;
  disposition write_disposition = disposition::merge;
  endpoint_config endpoint;
  schedule_config schedule;
  std::optional<milliseconds> full_scan_every;  // for incremental resources
  bool hard_delete = false;
  std::optional<milliseconds> max_age;      // alert when the last success is older
  std::vector<column_hint_config> columns;  // in file order
  std::optional<parent_config> parent;      // a dependent resource's parent
};

struct destination_config {
  std::string connection;  // libpq connection string; empty: the PG* environment
  std::string schema = "analytics";
  // PostgreSQL connections; concurrent runs are spread over them.
  int connections = 2;
};

// Where an optional listener (the metrics endpoint) binds.
struct listen_address {
  std::string host;        // an IP address literal, without brackets
  std::uint16_t port = 0;  // 0: any free port (the daemon logs the one it got)
};

// `restsyncd run`: what only the long-running daemon uses.
struct daemon_config {
  // The longest a stop (SIGTERM, SIGINT) may take: pages already handed to
  // the database commit first; past this the process exits regardless.
  milliseconds shutdown_timeout{30'000};
  // Several daemons on one database share the resources through leases in
  // it (docs/operations.md): a run holds its resource's lease, renewed every
  // third of this; one whose holder stopped renewing is taken over after it.
  milliseconds lease{60'000};
  // This daemon's name in _rs_leases, _rs_runs and status; empty: host:pid.
  std::string instance;
};

struct log_config {
  log_level level = log_level::info;  // `--log-level` overrides it
};

struct metrics_config {
  std::optional<listen_address> listen;  // absent: no metrics endpoint
};

struct config {
  std::string source;  // the file it was read from, for messages
  client_config client;
  std::vector<resource_config> resources;
  destination_config destination;
  daemon_config daemon;
  log_config log;
  metrics_config metrics;
  secret_set secrets;
};

std::string_view to_string(auth_type t);
std::string_view to_string(column_data_type t);
std::string_view to_string(api_key_location l);
std::string_view to_string(disposition d);
std::string_view to_string(row_order o);
std::string_view to_string(missing_cursor_action a);
std::string_view to_string(parent_deleted_action a);

// `127.0.0.1:9187`, `[::1]:9187`.
std::string to_string(const listen_address& a);

// A listen address as the configuration writes it: `PORT` (loopback),
// `HOST:PORT` or `[IPV6]:PORT`, HOST an IP address or `localhost`; nullopt
// when text is not one.
std::optional<listen_address> parse_listen_address(std::string_view text);

// The resource called name, or nullptr.
const resource_config* find_resource(const config& cfg, std::string_view name);

// Whether r's primary key names a column of its parent's values, so that
// records of different parents never share a key.
bool keyed_by_parent(const resource_config& r);

// base_url joined with the endpoint's path (or the path itself when it is an
// absolute URL), without query parameters.
std::string resource_url(const client_config& client, const endpoint_config& endpoint);

// The endpoint's params with dlt's placeholders {incremental.start_value},
// {incremental.end_value} and {incremental.initial_value} replaced; a
// parameter whose placeholder has no value (yet) is left out.
query_params expand_incremental_placeholders(const query_params& params,
                                             const std::optional<std::string>& start,
                                             const std::optional<std::string>& end,
                                             const std::optional<std::string>& initial);

}  // namespace restsync

// Inside the engine (sync/engine.cpp and the drivers beside it): the state
// of one run and the engine's shared parts, which fetch.cpp (one request,
// retried; one page, stored), offset_driver.cpp and sequential_driver.cpp
// (the two ways of paging) work on. Internal to sync/.
#pragma once

#include <rapidjson/document.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "restsync/flow/budget_driver.hpp"
#include "restsync/flow/gate_driver.hpp"
#include "restsync/flow/retry_policy.hpp"
#include "restsync/http/auth.hpp"
#include "restsync/http/client.hpp"
#include "restsync/http/url.hpp"
#include "restsync/incremental/cursor_advance.hpp"
#include "restsync/paging/offset_scan.hpp"
#include "restsync/paging/page.hpp"
#include "restsync/paging/repeat_guard.hpp"
#include "restsync/plan/limits.hpp"
#include "restsync/plan/request_body.hpp"
#include "restsync/plan/request_query.hpp"
#include "restsync/plan/resource_plan.hpp"
#include "restsync/store/record_key.hpp"
#include "restsync/store/store.hpp"
#include "restsync/sync/engine.hpp"
#include "restsync/sync/token_source.hpp"

namespace restsync::sync {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

inline double seconds_since(steady::time_point t) {
  return std::chrono::duration<double>(steady::now() - t).count();
}

// Starts make(i) for every i below count, all at once, and resumes when
// every one has ended (engine::run_all's resources, a dependent resource's
// scans). make is called before the first wait.
asio::awaitable<void> join_all(asio::any_io_executor ex, std::size_t count,
                               const std::function<asio::awaitable<void>(std::size_t)>& make);

// What page_repeat_guard compares; 0 records make no fingerprint.
inline std::uint64_t fingerprint_of(const page& pg, const std::vector<std::string>& key_fields) {
  auto records = pg.records();
  return page_fingerprint(records.size(), db::record_key(*records.front(), key_fields),
                          db::record_key(*records.back(), key_fields));
}

struct fetch_result {
  // Holds the page's bytes in the memory budget until the page is stored.
  budget_lease lease;
  std::shared_ptr<page> data;
  std::optional<std::string> link;
  std::string error;       // set when data is null, not withdrawn and not ignored
  bool withdrawn = false;  // not sent: no longer needed once the gate let it through
  // The status of a response that response_actions ignores: no records
  // here, and the scan ends.
  std::optional<int> ignored;
};

// Keys a scan met more than once (beyond pages that overlapped): how many,
// and which (db::pass_check::repeat_digest).
struct repeat_signature {
  std::int64_t count = 0;
  std::uint64_t digest = 0;
  friend bool operator==(const repeat_signature&, const repeat_signature&) = default;
};

// A dependent resource's scan for one row of its parent (config's
// parent_config): the request with the row's values filled in, and what
// the scan's records and state carry of it.
struct parent_scope {
  std::string endpoint_url;    // the path's placeholders filled
  endpoint_config endpoint;    // the params' placeholders filled
  db::run_scope scope;         // its _rs_state row and the rows it may mark deleted
  rapidjson::Document fields;  // set in every record: `_accounts_id` → 17
  std::string label;           // for messages: `accounts.id=17`
  // Which parent each key of the run came from (label), when the key has
  // no parent column: a key from two parents fails the second's scan
  // rather than merge two parents' records onto one row. Null otherwise.
  std::unordered_map<std::string, std::string>* key_owners = nullptr;
  // The `{resources.…}` placeholders' values as a body carries them.
  std::map<std::string, body_value, std::less<>> body_values;
  std::size_t window = 1;  // its share of max_in_flight
};

// Everything one run of one resource needs, alive for the run.
struct run_context {
  run_context(const resource_config& r, std::size_t i, net::http_client* c, page_spec s,
              retry_policy p)
      : rc(r), index(i), client(c), spec(std::move(s)), policy(std::move(p)) {}

  const resource_config& rc;
  std::size_t index;
  // A dependent resource's run for one parent: the parent's values, set in
  // every record (`_accounts_id`), and the requests in flight at most
  // (its share of max_in_flight); null and 0 otherwise.
  const rapidjson::Value* parent_fields = nullptr;
  std::size_t window = 0;
  const parent_scope* scope = nullptr;
  net::http_client* client;
  std::string base_target;  // origin-relative path with the endpoint's params
  http_method method = http_method::get;
  // endpoint.json filled for the run (run_body); paging writes into it.
  std::optional<std::string> base_body;
  run_request shared_request() const { return {method, base_target, base_body}; }
  net::header_list headers;
  page_spec spec;
  retry_policy policy;
  std::int64_t run_id = 0;
  run_outcome out;
  bool failed = false;
  // Issue no more requests: a failure, or a singleton answered the scan, or
  // an ordered scan reached its incremental start.
  bool stop = false;

  // Incremental loading (endpoint.incremental): the window and the cursor
  // it moves; empty without, or when the window could not be planned.
  std::optional<cursor_advance> advance;
  // row_order desc and a start: paging stops at the first page that is all
  // older than start.
  bool stop_at_start = false;
  bool reached_start = false;
  // The run reads every record (not an incremental window): a complete
  // scan proves what no longer exists.
  bool full = true;
  bool track_keys = false;
  // The record at the furthest position of the scan, for the drift check.
  std::int64_t anchor_position = -1;
  std::string anchor_key;
  // What earlier runs learnt about the paging (_rs_state), and what this
  // run's scans learnt (nullopt: nothing yet), which the run's end stores.
  db::paging_memory paging;
  std::optional<db::paging_memory> learnt;
  // A scan ended on a short page; an empty page confirmed one.
  bool ended_on_short_page = false;
  bool short_page_checked = false;

  // The paging knowledge the next scan goes by: this run's, else the state's.
  const db::paging_memory& paging_now() const { return learnt ? *learnt : paging; }
  // What this run learns, starting from what earlier runs did.
  db::paging_memory& learning() {
    if (!learnt) {
      learnt.emplace();
      learnt->page_size = paging.page_size;
      learnt->stable_repeats = paging.stable_repeats;
    }
    return *learnt;
  }
  // The keys the last scan met twice, beyond its overlaps.
  std::optional<repeat_signature> last_repeats;

  // The scan ended on a response that response_actions ignores (its status):
  // the run succeeds, but its scan proves nothing complete.
  std::optional<int> ignored;
  void ignore(int status) {
    if (!ignored) ignored = status;
    stop = true;
  }

  void fail(std::string message) {
    if (!failed) out.error = std::move(message);
    failed = true;
    stop = true;
  }

  // Which records of a page to leave out; fails the run (returning nullopt)
  // on a cursor value that is missing (raise) or not a timestamp.
  // where names the page in messages: "the page at offset 100", "page 3 of the scan".
  std::optional<page_filter> filter(const page& pg, std::string_view where) {
    if (!advance) return page_filter{};
    auto f = advance->filter(pg.records(), where, [this](const rapidjson::Value& record) {
      return db::record_key(record, rc.primary_key);
    });
    if (auto* message = std::get_if<std::string>(&f)) {
      fail(std::move(*message));
      return std::nullopt;
    }
    return std::get<page_filter>(std::move(f));
  }
};

struct engine::impl {
  asio::any_io_executor ex;
  const config& cfg;
  db::store& store;
  logger& log;
  gate_driver gate;
  budget_driver budget;
  // What a request of each resource reserves: its latest response's charge.
  std::vector<std::size_t> page_charge;
  std::map<std::string, std::unique_ptr<net::http_client>> clients;
  std::map<std::string, std::size_t, std::less<>> resource_index;
  std::mt19937_64 rng{std::random_device{}()};
  request_credentials creds;
  // The query parameters that carry credentials: their values never reach a message.
  std::vector<std::string> credential_params;
  // Requests awaiting their response, by resource index.
  std::vector<std::int64_t> in_flight;
  // Every HTTP client's settings.
  net::http_settings http;
  // Each resource's plan, by resource index, once it ran.
  std::vector<std::shared_ptr<const resource_plan>> plans;
  // Told of every run, request, wait and page when set (engine::set_progress).
  progress_sink* progress = nullptr;
  // The OAuth2 token (auth oauth2_client_credentials), null for other auth.
  std::unique_ptr<token_source> tokens;
  // The tokens fetched lately (the current one and the one before, which
  // requests in flight may still carry), and every secret to mask: the
  // configuration's and these.
  std::deque<std::string> recent_tokens;
  secret_set secrets;

  impl(asio::any_io_executor e, const config& c, db::store& s, logger& l)
      : ex(e),
        cfg(c),
        store(s),
        log(l),
        gate(e, gate_settings(c.client.rate_limit)),
        budget(e, static_cast<std::size_t>(c.client.memory_budget)),
        page_charge(c.resources.size(), first_page_reservation),
        creds(credentials_for(c.client.auth)),
        in_flight(c.resources.size(), 0),
        http(http_settings_for(c)),
        plans(c.resources.size()) {
    for (std::size_t i = 0; i < c.resources.size(); ++i) resource_index[c.resources[i].name] = i;
    for (const auto& [name, value] : creds.params) credential_params.push_back(name);
    secrets = c.secrets;
    if (c.client.auth.type == auth_type::oauth2_client_credentials)
      tokens = std::make_unique<token_source>(
          e, c.client.auth, client_for(parse_url(c.client.auth.access_token_url)), l,
          [this](const std::string& token) { note_token(token); });
  }

  // A token fetched: masked from here on in the log and in run errors.
  void note_token(const std::string& token) {
    recent_tokens.push_back(token);
    if (recent_tokens.size() > 2) recent_tokens.pop_front();
    secret_set fetched;
    for (const auto& t : recent_tokens) fetched.add(t);
    secrets = cfg.secrets;
    secrets.add_all(fetched);
    log.set_runtime_secrets(std::move(fetched));
  }

  // A target (or link) as messages show it: no credential in its query.
  std::string shown(std::string_view target) const {
    return redact_query(target, credential_params);
  }

  net::http_client& client_for(const url& u) {
    auto& slot = clients[u.origin()];
    if (!slot) slot = std::make_unique<net::http_client>(ex, u, http);
    return *slot;
  }

  // The plan of a resource, made at its first run (a configuration the
  // engine cannot plan fails that run, as it always did) and kept. Shared:
  // a run keeps its plan even if a run of another resource_config object
  // under the same name replaces it.
  std::shared_ptr<const resource_plan> plan_for(std::size_t index, const resource_config& rc) {
    auto& slot = plans[index];
    if (!slot || slot->resource != &rc)
      slot = std::make_shared<const resource_plan>(plan_resource(cfg.client, rc));
    return slot;
  }

  double random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

  // fetch.cpp: one request with the retry policy around it; a page that
  // arrived whole or the reason it could not. still_needed, when given, is
  // asked each time the gate lets the request through; false withdraws it
  // unsent.
  asio::awaitable<fetch_result> fetch(run_context& ctx, http_request request,
                                      std::function<bool()> still_needed);
  // fetch.cpp: stores one page. position is the page's offset, or its index
  // in a sequential scan; where names it in messages.
  asio::awaitable<void> commit(run_context& ctx, std::shared_ptr<page> data, std::int64_t position,
                               std::string where, std::vector<char> skip,
                               std::optional<std::string> cursor);

  // offset_driver.cpp: offset paging, a window of concurrent requests driven
  // by offset_scan, scanned again while the data moves.
  struct offset_run;
  asio::awaitable<bool> page_offsets(run_context& ctx, const offset_paginator& p);
  asio::awaitable<bool> scan_offsets(run_context& ctx, const offset_paginator& p);
  asio::awaitable<void> drive_scan(run_context& ctx, offset_run& run, const offset_paginator& p,
                                   std::size_t window);
  asio::awaitable<bool> judge_scan(run_context& ctx, const offset_scan& scan);
  asio::awaitable<void> offset_task(run_context& ctx, offset_run& run, std::int64_t offset,
                                    const offset_paginator& p);
  struct anchor_check {
    bool holds = false;         // the record the scan saw last is still there
    bool records_past = false;  // and records follow it
  };
  asio::awaitable<std::optional<anchor_check>> check_anchor(run_context& ctx);
  void learn_paging(run_context& ctx, const offset_scan& scan);
  void note_sizes_vary(run_context& ctx);
  bool short_page_check_due(const run_context& ctx) const;
  bool repeats_hold_still(run_context& ctx, const repeat_signature& repeats);

  // sequential_driver.cpp: the paginators that learn the next request from
  // the previous answer.
  asio::awaitable<void> page_sequential(run_context& ctx);

  // engine.cpp: one run of a resource, from begin_run to finish_run: one
  // scan of its endpoint, or (dependent_driver.cpp) one per parent row.
  asio::awaitable<run_outcome> run(const resource_config& rc, run_flags flags);
  asio::awaitable<run_outcome> run_scan(const resource_config& rc, run_flags flags,
                                        const parent_scope* scope);
  asio::awaitable<db::table_spec> prepare_table(const resource_config& rc,
                                                const resource_plan& plan);
  void plan_incremental(run_context& ctx, const db::run_start& rs, const run_flags& flags);
  // parent: the parent row of a dependent resource's scan (parent_scope::label).
  void log_summary(const run_outcome& o, const std::string& parent = {});

  // dependent_driver.cpp: a dependent resource's run, one scan per live row
  // of its parent's table.
  asio::awaitable<run_outcome> run_dependent(const resource_config& rc, run_flags flags);
};

}  // namespace restsync::sync

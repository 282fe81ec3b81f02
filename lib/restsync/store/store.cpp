#include "restsync/store/store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "restsync/observe/log.hpp"
#include "restsync/store/naming.hpp"
#include "restsync/store/schema.hpp"
#include "restsync/store/sql.hpp"

namespace restsync::db {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// libpq prints NOTICEs (such as "relation already exists, skipping") on stderr
// by default; they are expected here and would only clutter the logs.
class quiet_notices : public pqxx::errorhandler {
 public:
  using pqxx::errorhandler::errorhandler;
  bool operator()(const char*) noexcept override { return false; }
};

std::string_view status_name(run_status s) {
  switch (s) {
    case run_status::running:
      return "running";
    case run_status::succeeded:
      return "succeeded";
    case run_status::failed:
      return "failed";
    case run_status::interrupted:
      return "interrupted";
  }
  return "unknown";
}

// Why a failed transaction should run again on a new connection; nullopt
// when the failure is not the connection's (a data problem).
std::optional<std::string_view> reconnect_reason(const std::exception& e,
                                                 const pqxx::connection* conn) {
  // The store's own: a data problem, or connect_with_backoff that gave up
  // (its window is over, or the store is shutting down).
  if (dynamic_cast<const store_error*>(&e)) return std::nullopt;
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) return "connection_lost";
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e)) return "connection_lost";
  if (auto* s = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string state = s->sqlstate();
    // 08: connection exception; 57P: operator intervention (shutdown, restart).
    if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0) return "connection_lost";
    // read_only_sql_transaction: the session began while the database was
    // read-only (default_transaction_read_only in a failover or a maintenance
    // window, or a standby) and stays so until it ends, even once the
    // database takes writes again.
    if (state == "25006") return "read_only";
  }
  if (conn == nullptr || !conn->is_open()) return "connection_lost";
  return std::nullopt;
}

// The retries of one batch of jobs on new connections, until reconnect_for:
// the first at once (a lost or read-only session usually has a good
// successor), later ones after a pause that doubles up to
// reconnect_max_backoff, so that a database still read-only is not hammered.
struct retry_budget {
  std::chrono::steady_clock::time_point deadline;
  int attempts = 0;
  std::chrono::milliseconds pause = 250ms;
};

// libpq's message without its trailing newline.
std::string_view message_of(const std::exception& e) {
  std::string_view m = e.what();
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.remove_suffix(1);
  return m;
}

struct table_state {
  sql::table_ref ref;
  std::vector<std::string> primary_key;
  write_mode mode = write_mode::merge;
  bool exists = false;
  table_schema schema;
  field_labels labels;  // how _rs_columns keys each field
  std::vector<size_t> key_columns;
  std::string upsert_sql;
  std::string upsert_name;  // the prepared statement of upsert_sql
  size_t upsert_columns = 0;
  // replace: the run in progress writes here; swapped in by finish_run.
  std::optional<sql::table_ref> staging;
};

// A record key's 64-bit hash: FNV-1a from a per-run seed, then a splitmix64
// finish. A collision can only make an unseen key look seen, so a deletion
// may be missed, never a live record marked deleted; with a seed drawn per
// run the same pair does not collide again in the next run.
std::uint64_t key_hash(std::uint64_t seed, std::string_view key) {
  std::uint64_t h = 14695981039346656037ull ^ seed;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

// The keys a run has seen, as hashes: 8 bytes a key (900,000 keys: 7 MiB).
struct run_track {
  std::string resource;
  bool track_keys = false;
  std::string untracked;  // why keys stopped being tracked
  std::uint64_t seed = 0;
  std::vector<std::uint64_t> pass;  // committed keys of the pass in progress, unsorted
  std::vector<std::uint64_t> seen;  // earlier passes' keys, sorted, unique

  // Folds the pass into seen; returns how many of its keys were repeats
  // within the pass (records met twice by one scan).
  std::int64_t end_pass() {
    std::sort(pass.begin(), pass.end());
    auto before = pass.size();
    pass.erase(std::unique(pass.begin(), pass.end()), pass.end());
    auto repeated = static_cast<std::int64_t>(before - pass.size());
    if (seen.empty()) {
      // The first scan (nearly always the only one): its keys become seen
      // as they are, without a second copy at the peak.
      seen.swap(pass);
    } else {
      auto middle = static_cast<std::ptrdiff_t>(seen.size());
      seen.insert(seen.end(), pass.begin(), pass.end());
      std::inplace_merge(seen.begin(), seen.begin() + middle, seen.end());
      seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    }
    pass.clear();
    pass.shrink_to_fit();
    return repeated;
  }
  bool saw(std::uint64_t h) const { return std::binary_search(seen.begin(), seen.end(), h); }
};

// What a transaction's page writes add to the counters of one run.
struct run_counts {
  std::int64_t pages = 0;
  std::int64_t records = 0;
  write_counts rows;
};

struct job {
  bool batchable = false;
  std::size_t records = 0;
  std::function<void(pqxx::work&)> run;
  std::function<void(std::exception_ptr)> done;
};

}  // namespace

// One connection and the thread that owns it. A store has one or more
// (store_settings::connections); each run is served by one of them.
struct worker {
  asio::any_io_executor ex;
  store_settings settings;
  logger* log = nullptr;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<job> queue;
  bool stopping = false;

  // Owned by the database thread only.
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<quiet_notices> notices;
  // Statements prepared on conn (a new connection has none). A statement's
  // name is never reused for other SQL: when a table's columns change, its
  // upsert gets a new name, as libpqxx refuses to redefine one.
  std::unordered_set<std::string> prepared;
  std::uint64_t statements_named = 0;
  std::map<std::string, table_state> tables;
  // Tables touched by the transaction in progress, as they were before it.
  std::map<std::string, table_state> undo;
  // Runs in progress, by id.
  std::map<std::int64_t, run_track> runs;
  // Effects on the thread's own state that only a commit may make.
  std::vector<std::function<void()>> after_commit;
  // Keys written by the transaction in progress, by run: added to the run's
  // pass when it commits.
  std::map<std::int64_t, std::vector<std::uint64_t>> tx_keys;
  // The run counters the transaction in progress adds to, by run id.
  std::map<std::int64_t, run_counts> run_deltas;
  // Page writes of the transaction in progress that wait for their
  // statement: consecutive pages of one run's table are upserted by one
  // statement, which costs PostgreSQL far less per row than one per page.
  struct pending_upsert {
    std::string resource;
    std::int64_t run_id = 0;
    std::vector<const rapidjson::Value*> records;
    // For messages: the index in records where each page starts, and its offset.
    std::vector<std::pair<size_t, std::int64_t>> pages;
    // Where the statement's counts go: the first page's result (write()'s
    // caller only adds them up per run).
    std::vector<std::shared_ptr<write_counts>> results;
  };
  std::vector<pending_upsert> pending;
  // upsert()'s buffers, kept from page to page so that they stop growing.
  row_text upsert_row;
  std::string upsert_key;
  std::vector<sql::binary_text_array> upsert_arrays;

  std::thread thread;

  worker(asio::any_io_executor e, store_settings s, logger* l)
      : ex(std::move(e)), settings(std::move(s)), log(l) {
    thread = std::thread([this] { loop(); });
  }

  ~worker() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    thread.join();
  }

  void enqueue(job j) {
    {
      std::lock_guard lock(mu);
      queue.push_back(std::move(j));
    }
    cv.notify_one();
  }

  // Not a coroutine: the job is queued when the awaitable is first resumed,
  // and the caller resumes on its own executor with the job's result.
  template <class R>
  asio::awaitable<R> submit(bool batchable, std::size_t records, std::function<R(pqxx::work&)> fn) {
    return asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr, R)>(
        [this, batchable, records](auto handler, std::function<R(pqxx::work&)> fn) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          auto result = std::make_shared<R>();
          auto tracked = asio::prefer(ex, asio::execution::outstanding_work.tracked);
          job j;
          j.batchable = batchable;
          j.records = records;
          j.run = [fn = std::move(fn), result](pqxx::work& tx) { *result = fn(tx); };
          j.done = [h, result, tracked](std::exception_ptr e) {
            asio::post(tracked, [h, result, e]() mutable { (*h)(e, std::move(*result)); });
          };
          enqueue(std::move(j));
        },
        asio::use_awaitable, std::move(fn));
  }

  void loop() {
    for (;;) {
      std::vector<job> batch;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [this] { return stopping || !queue.empty(); });
        if (queue.empty()) break;
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
        std::size_t records = batch.front().records;
        while (batch.front().batchable && !queue.empty() && queue.front().batchable &&
               records + queue.front().records <= settings.max_batch_records) {
          records += queue.front().records;
          batch.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
      run_batch(batch);
    }
    conn.reset();
  }

  // Waits up to d; true at once when the store is being destroyed.
  bool stop_requested_within(std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, d, [this] { return stopping; });
  }

  void connect_with_backoff() {
    auto deadline = std::chrono::steady_clock::now() + settings.reconnect_for;
    auto backoff = 250ms;
    for (;;) {
      try {
        notices.reset();
        conn = std::make_unique<pqxx::connection>(settings.connection);
        notices = std::make_unique<quiet_notices>(*conn);
        prepared.clear();
        return;
      } catch (const std::exception& e) {
        conn.reset();
        if (std::chrono::steady_clock::now() + backoff > deadline)
          throw store_error(std::string("cannot connect to PostgreSQL: ") + e.what());
        // Shutting down: the writes still queued are dropped rather than
        // held for the reconnect window (their records are read again by
        // the next run); a stop must not wait minutes for a database.
        if (stop_requested_within(backoff))
          throw store_error(std::string("cannot connect to PostgreSQL while shutting down: ") +
                            e.what());
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, settings.reconnect_max_backoff);
      }
    }
  }

  // Runs jobs in one transaction; undo restores table metadata on failure.
  void run_in_transaction(std::vector<job*>& jobs) {
    if (!conn || !conn->is_open()) connect_with_backoff();
    undo.clear();
    after_commit.clear();
    tx_keys.clear();
    run_deltas.clear();
    pending.clear();
    try {
      pqxx::work tx(*conn);
      for (auto* j : jobs) j->run(tx);
      // The page writes' statements (a transaction with any other job holds
      // that job alone: loop() batches page writes only).
      flush_upserts(tx);
      // One counter update per run, not per page; still in the pages'
      // transaction, so a page's rows and its counts commit together.
      for (const auto& [run_id, d] : run_deltas)
        tx.exec_prepared(
            statement("rs_run_counts", "UPDATE " + sys("_rs_runs") +
                                           " SET pages = pages + $2, records = records + $3, "
                                           "inserted = inserted + $4, updated = updated + $5, "
                                           "unchanged = unchanged + $6 WHERE id = $1"),
            run_id, d.pages, d.records, d.rows.inserted, d.rows.updated, d.rows.unchanged);
      tx.commit();
      undo.clear();
      run_deltas.clear();
    } catch (...) {
      for (auto& [name, state] : undo) tables[name] = std::move(state);
      undo.clear();
      pending.clear();
      after_commit.clear();
      tx_keys.clear();
      run_deltas.clear();
      throw;
    }
    for (auto& [run_id, keys] : tx_keys) {
      auto it = runs.find(run_id);
      if (it != runs.end()) it->second.pass.insert(it->second.pass.end(), keys.begin(), keys.end());
    }
    tx_keys.clear();
    auto effects = std::move(after_commit);
    after_commit.clear();
    for (auto& f : effects) f();
  }

  // After a failed transaction: true when the caller should run it again,
  // on the new connection this opened; false when the failure is the
  // caller's to report. Throws when no new connection could be opened.
  bool reconnect_after(const std::exception& e, retry_budget& retry) {
    auto reason = reconnect_reason(e, conn.get());
    if (!reason) return false;
    // Dropped even when no retry follows: a read-only session would fail
    // every later job as well.
    conn.reset();
    if (std::chrono::steady_clock::now() >= retry.deadline) return false;
    auto pause = 0ms;
    if (retry.attempts++ > 0) {
      pause = retry.pause;
      retry.pause =
          std::min<std::chrono::milliseconds>(retry.pause * 2, settings.reconnect_max_backoff);
    }
    if (log)
      log->warn("database_reconnect", {{"reason", *reason},
                                       {"attempt", retry.attempts},
                                       {"wait_ms", pause.count()},
                                       {"error", message_of(e)}});
    if (pause > 0ms && stop_requested_within(pause)) return false;
    connect_with_backoff();
    return true;
  }

  void run_batch(std::vector<job>& batch) {
    std::vector<job*> all;
    for (auto& j : batch) all.push_back(&j);
    retry_budget retry{std::chrono::steady_clock::now() + settings.reconnect_for};
    for (;;) {
      try {
        run_in_transaction(all);
        for (auto* j : all) j->done(nullptr);
        return;
      } catch (const std::exception& e) {
        // The transaction rolled back with the connection: run it again on a new one.
        try {
          if (reconnect_after(e, retry)) continue;
        } catch (...) {
          for (auto* j : all) j->done(std::current_exception());
          return;
        }
        if (all.size() > 1) {
          // One bad page must not fail the others that shared its transaction.
          for (auto* j : all) {
            std::vector<job*> one{j};
            run_alone(one, retry);
          }
          return;
        }
        all.front()->done(std::current_exception());
        return;
      }
    }
  }

  void run_alone(std::vector<job*>& one, retry_budget& retry) {
    for (;;) {
      try {
        run_in_transaction(one);
        one.front()->done(nullptr);
        return;
      } catch (const std::exception& e) {
        try {
          if (reconnect_after(e, retry)) continue;
        } catch (...) {
        }
        one.front()->done(std::current_exception());
        return;
      }
    }
  }

  void append_row() {
    for (size_t c = 0; c < upsert_arrays.size(); ++c) upsert_arrays[c].append(upsert_row[c]);
  }

  // Parsed and planned once per connection rather than on every execution.
  const std::string& statement(const std::string& name, const std::string& sql) {
    if (!prepared.count(name)) {
      conn->prepare(name, sql);
      prepared.insert(name);
    }
    return name;
  }

  std::string schema_q() const { return quote_ident(settings.schema); }
  std::string sys(std::string_view table) const { return sql::qualified(settings.schema, table); }

  void create_system_tables(pqxx::work& tx) {
    tx.exec("CREATE SCHEMA IF NOT EXISTS " + schema_q());
    tx.exec("CREATE TABLE IF NOT EXISTS " + sys("_rs_state") +
            " (resource text PRIMARY KEY, cursor_value text, "
            "last_complete_scan_at timestamptz, last_success_at timestamptz, "
            "last_error_at timestamptz, last_error text, "
            "updated_at timestamptz NOT NULL DEFAULT now())");
    tx.exec("CREATE TABLE IF NOT EXISTS " + sys("_rs_runs") +
            " (id bigserial PRIMARY KEY, resource text NOT NULL, "
            "started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz, "
            "status text NOT NULL DEFAULT 'running', pages bigint NOT NULL DEFAULT 0, "
            "records bigint NOT NULL DEFAULT 0, inserted bigint NOT NULL DEFAULT 0, "
            "updated bigint NOT NULL DEFAULT 0, unchanged bigint NOT NULL DEFAULT 0, "
            "requests bigint NOT NULL DEFAULT 0, retries bigint NOT NULL DEFAULT 0, "
            "rate_limited bigint NOT NULL DEFAULT 0, complete_scan boolean NOT NULL DEFAULT "
            "false, error text)");
    // Added after the first release: databases it created get them here.
    tx.exec("ALTER TABLE " + sys("_rs_runs") +
            " ADD COLUMN IF NOT EXISTS deleted bigint NOT NULL DEFAULT 0, "
            "ADD COLUMN IF NOT EXISTS rescans bigint NOT NULL DEFAULT 0");
    tx.exec("CREATE INDEX IF NOT EXISTS \"_rs_runs_resource_idx\" ON " + sys("_rs_runs") +
            " (resource, id DESC)");
    // `field` is the field's label (naming.hpp: field_labels), `field_name`
    // the field's exact name, which text cannot always hold; rows written
    // before it existed have NULL there and their name as the label.
    tx.exec("CREATE TABLE IF NOT EXISTS " + sys("_rs_columns") +
            " (resource text NOT NULL, field text NOT NULL, variant text NOT NULL DEFAULT '', "
            "column_name text NOT NULL, type text NOT NULL, ordinal integer NOT NULL, "
            "field_name bytea, PRIMARY KEY (resource, field, variant))");
    tx.exec("ALTER TABLE " + sys("_rs_columns") + " ADD COLUMN IF NOT EXISTS field_name bytea");
  }

  table_state load_table(pqxx::work& tx, const table_spec& spec) {
    table_state st;
    st.primary_key = spec.primary_key;
    st.mode = spec.mode;
    if (spec.resource.rfind("_rs_", 0) == 0)
      throw store_error("resource name '" + spec.resource +
                        "' starts with _rs_, which is reserved for restsync's own tables");
    st.ref = {settings.schema, fit_identifier(spec.resource)};
    auto exists = tx.exec_params(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2",
        st.ref.schema, st.ref.table);
    st.exists = !exists.empty();
    if (!st.exists) return st;
    std::vector<column_def> defs;
    std::vector<std::string> mapped;
    for (const auto& row :
         tx.exec_params("SELECT field, variant, column_name, type, field_name FROM " +
                            sys("_rs_columns") + " WHERE resource = $1 ORDER BY ordinal",
                        spec.resource)) {
      auto type = parse_pg_type(row[3].c_str());
      if (!type)
        throw store_error(fmt::format("table {}: unknown column type '{}' in _rs_columns",
                                      st.ref.table, row[3].c_str()));
      std::string label = row[0].c_str();
      std::string field = row[4].is_null() ? label : pqxx::binarystring(row[4]).str();
      defs.push_back({row[2].c_str(), *type, field, !row[1].as<std::string>().empty()});
      st.labels.add(std::move(field), std::move(label));
    }
    std::vector<std::string> others;
    for (const auto& row : tx.exec_params(
             "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND "
             "table_name = $2",
             st.ref.schema, st.ref.table)) {
      std::string name = row[0].c_str();
      bool known = std::any_of(defs.begin(), defs.end(), [&](auto& d) { return d.name == name; });
      if (!known && !is_reserved_column(name)) others.push_back(name);
    }
    try {
      st.schema = table_schema(defs, others);
    } catch (const std::exception& e) {
      throw store_error(
          fmt::format("table {}: inconsistent _rs_columns: {}", st.ref.table, e.what()));
    }
    resolve_keys(st);
    return st;
  }

  void resolve_keys(table_state& st) {
    st.key_columns.clear();
    for (const auto& field : st.primary_key) {
      int idx = st.schema.main_column(field);
      if (idx < 0)
        throw store_error(
            fmt::format("table {}: no column for primary key field '{}'", st.ref.table, field));
      st.key_columns.push_back(static_cast<size_t>(idx));
    }
  }

  table_state& table_for(const std::string& resource) {
    auto it = tables.find(resource);
    if (it == tables.end())
      throw store_error("resource '" + resource + "' was not prepared before writing");
    if (!undo.count(resource)) undo.emplace(resource, it->second);
    return it->second;
  }

  // The table the run in progress writes to: the staging table of a replace run.
  static const sql::table_ref& write_ref(const table_state& st) {
    return st.staging ? *st.staging : st.ref;
  }

  void create_tables(pqxx::work& tx, table_state& st, const page_write& w) {
    // The key columns' types come from the first records, so the table
    // is created with the first page that has any.
    std::vector<column_def> keys;
    for (const auto& field : st.primary_key) {
      int idx = st.schema.main_column(field);
      if (idx < 0)
        throw store_error(fmt::format("{}: the records at offset {} have no primary key field '{}'",
                                      w.resource, w.offset, field));
      keys.push_back(st.schema.columns()[static_cast<size_t>(idx)]);
    }
    tx.exec(sql::create_table(st.ref, keys));
    if (st.staging) tx.exec(sql::create_table(*st.staging, keys));
    st.exists = true;
  }

  void write_page(pqxx::work& tx, const page_write& w, std::shared_ptr<write_counts> result) {
    unseen_cache.erase(w.run_id);
    auto& st = table_for(w.resource);
    auto all = w.data->records();
    std::vector<const rapidjson::Value*> kept;
    if (!w.skip.empty()) {
      for (size_t i = 0; i < all.size(); ++i)
        if (i >= w.skip.size() || !w.skip[i]) kept.push_back(all[i]);
    }
    std::span<const rapidjson::Value* const> records =
        w.skip.empty() ? all : std::span<const rapidjson::Value* const>(kept);
    *result = {};
    if (!records.empty()) {
      // Columns a page needs are added before any row is written; the rows
      // of earlier pages still waiting in pending get NULL there.
      auto added = st.schema.plan(records);
      if (!st.exists) create_tables(tx, st, w);
      if (!added.empty()) {
        tx.exec(sql::add_columns(st.ref, added));
        if (st.staging) tx.exec(sql::add_columns(*st.staging, added));
        persist_columns(tx, w.resource, st);
      }
      resolve_keys(st);
      if (pending.empty() || pending.back().resource != w.resource ||
          pending.back().run_id != w.run_id) {
        flush_upserts(tx);
        pending.push_back({w.resource, w.run_id, {}, {}, {}});
      }
      auto& p = pending.back();
      p.pages.emplace_back(p.records.size(), w.offset);
      p.records.insert(p.records.end(), records.begin(), records.end());
      p.results.push_back(std::move(result));
    }
    note_keys(w.run_id, st, all);
    auto& d = run_deltas[w.run_id];
    ++d.pages;
    d.records += static_cast<std::int64_t>(records.size());
    if (w.cursor)
      tx.exec_params("UPDATE " + sys("_rs_state") +
                         " SET cursor_value = $2, updated_at = now() WHERE resource = $1",
                     w.resource, *w.cursor);
  }

  // Writes the pages waiting in pending, one statement per run's table.
  void flush_upserts(pqxx::work& tx) {
    auto groups = std::move(pending);
    pending.clear();
    for (auto& p : groups) {
      auto& st = table_for(p.resource);
      if (st.upsert_columns != st.schema.columns().size()) {
        st.upsert_sql = sql::upsert(write_ref(st), st.schema.columns(), st.key_columns,
                                    st.mode != write_mode::append);
        st.upsert_name = fmt::format("rs_upsert_{}", ++statements_named);
        st.upsert_columns = st.schema.columns().size();
      }
      auto counts = upsert(tx, st, p);
      *p.results.front() = counts;
      auto& d = run_deltas[p.run_id];
      d.rows.inserted += counts.inserted;
      d.rows.updated += counts.updated;
      d.rows.unchanged += counts.unchanged;
    }
  }

  // A record's key as the table's key columns print as text (`k::text`),
  // fields separated by \x1f; nullopt when a key field is missing or of a
  // type whose text form is not reproduced here (only integers and strings).
  static std::optional<std::string> key_text(const rapidjson::Value& record,
                                             const std::vector<std::string>& fields) {
    std::string out;
    for (const auto& f : fields) {
      auto m = record.FindMember(rapidjson::StringRef(f.data(), f.size()));
      if (m == record.MemberEnd()) return std::nullopt;
      const auto& v = m->value;
      if (v.IsInt64()) {
        out += std::to_string(v.GetInt64());
      } else if (v.IsString() && !is_marked_number(v)) {
        std::string_view sv(v.GetString(), v.GetStringLength());
        if (sv.find('\0') != std::string_view::npos) return std::nullopt;
        out += sv;
      } else {
        return std::nullopt;
      }
      out.push_back('\x1f');
    }
    return out;
  }

  // Adds the page's keys to the run's pass (when it tracks keys).
  void note_keys(std::int64_t run_id, const table_state& st,
                 std::span<const rapidjson::Value* const> records) {
    auto it = runs.find(run_id);
    if (it == runs.end() || !it->second.track_keys) return;
    auto& pending = tx_keys[run_id];
    for (const auto* r : records) {
      auto k = key_text(*r, st.primary_key);
      if (!k) {
        // Deletions cannot be told apart for this run.
        it->second.track_keys = false;
        it->second.untracked =
            "a record's primary key is missing or neither an integer nor a "
            "string";
        return;
      }
      pending.push_back(key_hash(it->second.seed, *k));
    }
  }

  void persist_columns(pqxx::work& tx, const std::string& resource, table_state& st) {
    const auto& all = st.schema.columns();
    auto ordinal_of = [&](const column_def& c) {
      return static_cast<int>(std::find(all.begin(), all.end(), c) - all.begin());
    };
    for (const auto& c : all) {
      tx.exec_params(
          "INSERT INTO " + sys("_rs_columns") +
              " (resource, field, variant, column_name, type, ordinal, field_name) VALUES "
              "($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (resource, field, variant) DO NOTHING",
          resource, st.labels.label(c.field), c.variant ? std::string(variant_tag(c.type)) : "",
          c.name, std::string(sql_name(c.type)), ordinal_of(c), pqxx::binarystring(c.field));
    }
  }

  write_counts upsert(pqxx::work& tx, table_state& st, const pending_upsert& p) {
    const auto& records = p.records;
    const auto& columns = st.schema.columns();
    // The arrays are built straight from each record's row. A key seen twice
    // in one statement would make ON CONFLICT fail: the later record is the
    // newer one and takes the place of the first, and the arrays are built
    // again (rare: the API repeated a record within a page).
    constexpr size_t superseded = static_cast<size_t>(-1);
    std::vector<size_t> source(records.size());
    std::unordered_map<std::string, size_t> by_key;
    by_key.reserve(records.size());
    bool repeated = false;
    upsert_arrays.resize(columns.size());
    for (auto& a : upsert_arrays) a.clear();
    for (size_t r = 0; r < records.size(); ++r) {
      st.schema.fill_row(*records[r], upsert_row);
      upsert_key.clear();
      for (size_t k : st.key_columns) {
        auto v = upsert_row[k];
        if (!v) {
          // The page the record came from: the last one starting at or before r.
          auto page = std::prev(std::upper_bound(
              p.pages.begin(), p.pages.end(), r,
              [](size_t i, const std::pair<size_t, std::int64_t>& pg) { return i < pg.first; }));
          throw store_error(fmt::format(
              "{}: record {} of the page at offset {} has no value for primary key column {}",
              p.resource, r - page->first, page->second, columns[k].name));
        }
        upsert_key += *v;
        upsert_key.push_back('\x1f');
      }
      if (st.key_columns.empty()) {
        // No key (append or replace without primary_key): every row is new.
        source[r] = r;
        if (!repeated) append_row();
        continue;
      }
      auto [it, fresh] = by_key.try_emplace(upsert_key, r);
      source[r] = fresh ? r : superseded;
      if (!fresh) {
        source[it->second] = r;
        repeated = true;
      }
      if (!repeated) append_row();
    }
    if (repeated) {
      for (auto& a : upsert_arrays) a.clear();
      for (size_t r : source) {
        if (r == superseded) continue;
        st.schema.fill_row(*records[r], upsert_row);
        append_row();
      }
    }
    std::vector<pqxx::binarystring> params;
    params.reserve(upsert_arrays.size());
    for (auto& a : upsert_arrays) params.emplace_back(a.finish());
    auto result = tx.exec_prepared(statement(st.upsert_name, st.upsert_sql),
                                   pqxx::prepare::make_dynamic_params(params));
    write_counts counts;
    counts.inserted = result.at(0).at(0).as<std::int64_t>();
    counts.updated = result.at(0).at(1).as<std::int64_t>();
    counts.unchanged = static_cast<std::int64_t>(records.size()) - counts.inserted - counts.updated;
    return counts;
  }

  run_start begin_run(pqxx::work& tx, const std::string& resource, const run_options& options,
                      const std::optional<table_spec>& reload) {
    run_start out;
    if (reload) {
      // The table's columns as the worker that served the last run left
      // them; restored if this transaction fails.
      if (!undo.count(resource)) undo.emplace(resource, tables[resource]);
      tables[resource] = load_table(tx, *reload);
    }
    auto r = tx.exec_params1(
        "INSERT INTO " + sys("_rs_runs") + " (resource) VALUES ($1) RETURNING id", resource);
    out.run_id = r[0].as<std::int64_t>();
    tx.exec_params("INSERT INTO " + sys("_rs_state") +
                       " (resource) VALUES ($1) ON CONFLICT (resource) DO NOTHING",
                   resource);
    auto state = tx.exec_params1(
        "SELECT cursor_value, extract(epoch FROM now() - last_complete_scan_at)::float8 FROM " +
            sys("_rs_state") + " WHERE resource = $1",
        resource);
    if (!state[0].is_null()) out.cursor = state[0].c_str();
    if (!state[1].is_null()) out.since_complete_scan = state[1].as<double>();
    auto it = tables.find(resource);
    std::optional<sql::table_ref> staging;
    if (it != tables.end() && it->second.mode == write_mode::replace) {
      // A staging table a crashed run left behind is dropped; this run
      // starts its own.
      staging = sql::table_ref{settings.schema, fit_identifier("_rs_stage_" + resource)};
      tx.exec("DROP TABLE IF EXISTS " + sql::qualified(staging->schema, staging->table));
      if (it->second.exists)
        tx.exec("CREATE TABLE " + sql::qualified(staging->schema, staging->table) + " (LIKE " +
                sql::qualified(it->second.ref.schema, it->second.ref.table) +
                " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)");
    }
    auto id = out.run_id;
    after_commit.push_back([this, id, resource, options, staging] {
      auto& t = runs[id];
      t.resource = resource;
      t.track_keys = options.track_keys;
      t.seed = std::random_device{}();
      t.seed = t.seed << 32 ^ std::random_device{}();
      auto st = tables.find(resource);
      if (st != tables.end()) {
        st->second.staging = staging;
        st->second.upsert_columns = 0;  // the statement names the table written to
      }
    });
    return out;
  }

  finish_counts finish_run(pqxx::work& tx, const run_summary& s) {
    finish_counts out;
    const bool ok = s.status == run_status::succeeded;
    auto track = runs.find(s.run_id);
    auto table = tables.find(s.resource);
    if (ok && table != tables.end()) {
      auto& st = table->second;
      if (st.staging) {
        if (s.complete_scan) out.replaced = swap_in(tx, st);
      } else if (s.mark_deleted) {
        if (track == runs.end() || !track->second.track_keys)
          out.deletions_skipped = track == runs.end() || track->second.untracked.empty()
                                      ? "the run did not track keys"
                                      : track->second.untracked;
        else if (st.exists)
          out.deleted =
              mark_unseen(tx, s.run_id, st, track->second, s.hard_delete, out.deletions_skipped);
      }
    }
    if (table != tables.end() && table->second.staging)
      tx.exec("DROP TABLE IF EXISTS " +
              sql::qualified(table->second.staging->schema, table->second.staging->table));
    tx.exec_params("UPDATE " + sys("_rs_runs") +
                       " SET finished_at = now(), status = $2, requests = $3, retries = $4, "
                       "rate_limited = $5, complete_scan = $6, error = NULLIF($7, ''), "
                       "deleted = $8, rescans = $9 WHERE id = $1",
                   s.run_id, std::string(status_name(s.status)), s.requests, s.retries,
                   s.rate_limited, s.complete_scan, s.error, out.deleted, s.rescans);
    if (ok)
      tx.exec_params("UPDATE " + sys("_rs_state") +
                         " SET last_success_at = now(), updated_at = now(), "
                         "last_complete_scan_at = CASE WHEN $2 THEN now() ELSE "
                         "last_complete_scan_at END, cursor_value = COALESCE($3, cursor_value) "
                         "WHERE resource = $1",
                     s.resource, s.complete_scan,
                     s.cursor ? s.cursor->c_str() : static_cast<const char*>(nullptr));
    else
      tx.exec_params("UPDATE " + sys("_rs_state") +
                         " SET last_error_at = now(), last_error = $2, updated_at = now() "
                         "WHERE resource = $1",
                     s.resource, s.error);
    auto id = s.run_id;
    auto resource = s.resource;
    after_commit.push_back([this, id, resource] {
      runs.erase(id);
      unseen_cache.erase(id);
      auto st = tables.find(resource);
      if (st != tables.end() && st->second.staging) {
        st->second.staging.reset();
        st->second.upsert_columns = 0;
      }
    });
    return out;
  }

  // replace: the staging table's rows become the table's, in this transaction.
  std::int64_t swap_in(pqxx::work& tx, table_state& st) {
    if (!st.exists) return 0;
    std::string cols;
    for (const auto& c : st.schema.columns()) cols += quote_ident(c.name) + ", ";
    cols += "\"_rs_synced_at\"";
    auto target = sql::qualified(st.ref.schema, st.ref.table);
    // DELETE, not TRUNCATE: readers keep seeing the old rows until the commit
    // (TRUNCATE is not MVCC-safe for snapshots taken before it).
    tx.exec("DELETE FROM " + target);
    auto r = tx.exec("INSERT INTO " + target + " (" + cols + ") SELECT " + cols + " FROM " +
                     sql::qualified(st.staging->schema, st.staging->table));
    return static_cast<std::int64_t>(r.affected_rows());
  }

  // The live rows whose keys the run has not seen, as one text[] literal
  // per key column; reads the table's keys in chunks. Empty (with skipped
  // saying why) when the key types do not allow telling.
  struct unseen_rows {
    std::vector<sql::binary_text_array> arrays;
    std::int64_t count = 0;
  };
  // What the last end_pass of a run found unseen, until the run writes
  // again: its finish_run then marks these instead of reading every key of
  // the table a second time. A row another writer adds in between is not
  // in it, and so not marked: the safe side.
  std::map<std::int64_t, std::shared_ptr<unseen_rows>> unseen_cache;
  unseen_rows find_unseen(pqxx::work& tx, const table_state& st, run_track& seen, bool hard,
                          std::string& skipped) {
    unseen_rows out;
    std::string select;
    for (size_t k : st.key_columns) {
      const auto& c = st.schema.columns()[k];
      if (c.type != pg_type::bigint && c.type != pg_type::text) {
        skipped = fmt::format(
            "primary key column {} is {}; deletions are detected for bigint "
            "and text keys only",
            c.name, sql_name(c.type));
        return out;
      }
      if (!select.empty()) select += ", ";
      select += quote_ident(c.name) + "::text";
    }
    seen.end_pass();
    tx.exec("DECLARE rs_keys NO SCROLL CURSOR FOR SELECT " + select + " FROM " +
            sql::qualified(st.ref.schema, st.ref.table) +
            (hard ? "" : " WHERE \"_rs_deleted_at\" IS NULL"));
    out.arrays.resize(st.key_columns.size());
    std::string key;
    for (;;) {
      auto rows = tx.exec("FETCH FORWARD 10000 FROM rs_keys");
      if (rows.empty()) break;
      for (const auto& row : rows) {
        key.clear();
        for (size_t i = 0; i < st.key_columns.size(); ++i) {
          key += row[static_cast<int>(i)].c_str();
          key.push_back('\x1f');
        }
        if (seen.saw(key_hash(seen.seed, key))) continue;
        for (size_t i = 0; i < st.key_columns.size(); ++i)
          out.arrays[i].append(std::string_view(row[static_cast<int>(i)].c_str()));
        ++out.count;
      }
    }
    tx.exec("CLOSE rs_keys");
    return out;
  }

  // Marks (or deletes) the live rows whose keys the run did not see.
  std::int64_t mark_unseen(pqxx::work& tx, std::int64_t run_id, table_state& st, run_track& seen,
                           bool hard, std::string& skipped) {
    // hard_delete also removes rows marked earlier, which end_pass left out.
    auto cached = hard ? unseen_cache.end() : unseen_cache.find(run_id);
    auto unseen =
        cached != unseen_cache.end() ? *cached->second : find_unseen(tx, st, seen, hard, skipped);
    if (unseen.count == 0) return 0;
    auto target = sql::qualified(st.ref.schema, st.ref.table);
    std::string from = "unnest(", match, aliases;
    std::vector<pqxx::binarystring> params;
    for (size_t i = 0; i < st.key_columns.size(); ++i) {
      const auto& c = st.schema.columns()[st.key_columns[i]];
      params.emplace_back(unseen.arrays[i].finish());
      from += fmt::format("{}${}::text[]", i ? ", " : "", i + 1);
      aliases += fmt::format("{}k{}", i ? ", " : "", i);
      match += fmt::format("{}t.{} = u.k{}::{}", i ? " AND " : "", quote_ident(c.name), i,
                           sql_name(c.type));
    }
    from += ") AS u(" + aliases + ")";
    auto sql = hard ? "DELETE FROM " + target + " AS t USING " + from + " WHERE " + match
                    : "UPDATE " + target + " AS t SET \"_rs_deleted_at\" = now() FROM " + from +
                          " WHERE " + match + " AND t.\"_rs_deleted_at\" IS NULL";
    auto r = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
    return static_cast<std::int64_t>(r.affected_rows());
  }

  pass_check end_pass(pqxx::work& tx, std::int64_t run_id, bool count_unseen) {
    pass_check out;
    auto it = runs.find(run_id);
    if (it == runs.end() || !it->second.track_keys) return out;
    out.repeated = it->second.end_pass();
    if (!count_unseen) return out;
    auto table = tables.find(it->second.resource);
    if (table == tables.end() || !table->second.exists || table->second.staging) return out;
    std::string skipped;
    auto unseen =
        std::make_shared<unseen_rows>(find_unseen(tx, table->second, it->second, false, skipped));
    out.unseen = unseen->count;
    if (skipped.empty())
      after_commit.push_back([this, run_id, unseen] { unseen_cache[run_id] = unseen; });
    return out;
  }
};

// Routes each run to a worker: the one with the fewest runs in progress, so
// that concurrent runs use the connections in parallel. A run's pages stay
// on its worker, in order. Used from the caller's executor only.
struct store::impl {
  store_settings settings;
  std::vector<std::unique_ptr<worker>> workers;
  std::map<std::string, table_spec> specs;
  // The worker whose table state is current for a resource: the one that
  // ran it last (any other reloads it at the start of a run).
  std::map<std::string, size_t> current;
  // Runs in progress by resource: a resource's runs share a worker, so that
  // its pages commit in the order they were written and two connections
  // never contend for its rows.
  struct placement {
    size_t worker = 0;
    int runs = 0;  // begun or beginning, not finished
  };
  std::map<std::string, placement> placed;
  std::map<std::int64_t, std::string> run_resource;

  impl(asio::any_io_executor ex, store_settings s, logger* log) : settings(std::move(s)) {
    auto n = std::max<size_t>(1, settings.connections);
    for (size_t i = 0; i < n; ++i) workers.push_back(std::make_unique<worker>(ex, settings, log));
  }

  worker& first() { return *workers.front(); }

  // Where a run of the resource goes: with its resource's runs in progress,
  // else to the worker with the fewest runs (the current one on a tie).
  size_t least_busy(const std::string& resource) const {
    auto running = placed.find(resource);
    if (running != placed.end() && running->second.runs > 0) return running->second.worker;
    std::vector<int> active(workers.size(), 0);
    for (const auto& [name, p] : placed) active[p.worker] += p.runs;
    auto it = current.find(resource);
    size_t best = it == current.end() ? 0 : it->second;
    for (size_t i = 0; i < workers.size(); ++i)
      if (active[i] < active[best]) best = i;
    return best;
  }

  // A run about to begin on worker k; release() if it does not.
  void reserve(size_t k, const std::string& resource) {
    auto& p = placed[resource];
    p.worker = k;
    ++p.runs;
  }

  void release(const std::string& resource) { --placed[resource].runs; }

  void run_started(std::int64_t run_id, size_t k, const std::string& resource) {
    current[resource] = k;
    run_resource[run_id] = resource;
  }

  size_t worker_of_run(std::int64_t run_id) const {
    auto it = run_resource.find(run_id);
    if (it == run_resource.end())
      throw store_error(fmt::format("run {} was not begun by this store", run_id));
    return placed.at(it->second).worker;
  }

  void run_ended(std::int64_t run_id) {
    auto it = run_resource.find(run_id);
    if (it == run_resource.end()) return;
    release(it->second);
    run_resource.erase(it);
  }
};

store::store(asio::any_io_executor ex, store_settings settings, logger* log)
    : impl_(std::make_unique<impl>(std::move(ex), std::move(settings), log)) {}

store::~store() = default;

const store_settings& store::settings() const { return impl_->settings; }

asio::awaitable<void> store::open() {
  auto& w = impl_->first();
  std::function<bool(pqxx::work&)> fn = [&w](pqxx::work& tx) {
    w.create_system_tables(tx);
    tx.exec("UPDATE " + w.sys("_rs_runs") +
            " SET status = 'interrupted', finished_at = now() WHERE status = 'running'");
    return true;
  };
  co_await w.submit<bool>(false, 0, std::move(fn));
}

asio::awaitable<void> store::prepare(table_spec spec) {
  auto k = impl_->least_busy(spec.resource);
  auto& w = *impl_->workers[k];
  std::function<bool(pqxx::work&)> fn = [&w, spec](pqxx::work& tx) {
    auto st = w.load_table(tx, spec);
    w.tables[spec.resource] = std::move(st);
    return true;
  };
  co_await w.submit<bool>(false, 0, std::move(fn));
  // The next run reloads the table on its worker: a run may begin (and add
  // columns) on another while this load waits for its turn.
  impl_->specs[spec.resource] = spec;
  impl_->current.erase(spec.resource);
}

asio::awaitable<run_start> store::begin_run(std::string resource, run_options options) {
  auto spec = impl_->specs.find(resource);
  if (spec == impl_->specs.end())
    throw store_error("resource '" + resource + "' was not prepared before its run");
  auto k = impl_->least_busy(resource);
  auto& w = *impl_->workers[k];
  std::optional<table_spec> reload;
  auto cur = impl_->current.find(resource);
  if (cur == impl_->current.end() || cur->second != k) reload = spec->second;
  std::function<run_start(pqxx::work&)> fn = [&w, resource, options, reload](pqxx::work& tx) {
    return w.begin_run(tx, resource, options, reload);
  };
  impl_->reserve(k, resource);
  run_start out;
  try {
    out = co_await w.submit<run_start>(false, 0, std::move(fn));
  } catch (...) {
    impl_->release(resource);
    throw;
  }
  impl_->run_started(out.run_id, k, resource);
  co_return out;
}

asio::awaitable<write_counts> store::write(page_write w) {
  auto& wk = *impl_->workers[impl_->worker_of_run(w.run_id)];
  auto n = w.data ? w.data->records().size() : 0;
  // Set when the page's statement runs, which may be after this job returns
  // (pages of one table share a statement): read once the transaction committed.
  auto result = std::make_shared<write_counts>();
  std::function<bool(pqxx::work&)> fn = [&wk, w = std::move(w), result](pqxx::work& tx) {
    wk.write_page(tx, w, result);
    return true;
  };
  co_await wk.submit<bool>(true, n, std::move(fn));
  co_return *result;
}

asio::awaitable<pass_check> store::end_pass(std::int64_t run_id, bool count_unseen) {
  auto& w = *impl_->workers[impl_->worker_of_run(run_id)];
  std::function<pass_check(pqxx::work&)> fn = [&w, run_id, count_unseen](pqxx::work& tx) {
    return w.end_pass(tx, run_id, count_unseen);
  };
  co_return co_await w.submit<pass_check>(false, 0, std::move(fn));
}

asio::awaitable<finish_counts> store::finish_run(run_summary s) {
  auto id = s.run_id;
  auto& w = *impl_->workers[impl_->worker_of_run(id)];
  std::function<finish_counts(pqxx::work&)> fn = [&w, s = std::move(s)](pqxx::work& tx) {
    return w.finish_run(tx, s);
  };
  finish_counts out;
  try {
    out = co_await w.submit<finish_counts>(false, 0, std::move(fn));
  } catch (...) {
    impl_->run_ended(id);
    throw;
  }
  impl_->run_ended(id);
  co_return out;
}

asio::awaitable<std::vector<resource_state>> store::states() {
  auto& w = impl_->first();
  std::function<std::vector<resource_state>(pqxx::work&)> fn = [&w](pqxx::work& tx) {
    std::vector<resource_state> out;
    auto opt = [](const pqxx::field& f) {
      return f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str());
    };
    for (const auto& row : tx.exec("SELECT resource, last_success_at, last_error_at, last_error, "
                                   "last_complete_scan_at FROM " +
                                   w.sys("_rs_state") + " ORDER BY resource")) {
      out.push_back({row[0].c_str(), opt(row[1]), opt(row[2]), opt(row[3]), opt(row[4])});
    }
    return out;
  };
  co_return co_await w.submit<std::vector<resource_state>>(false, 0, std::move(fn));
}

}  // namespace restsync::db

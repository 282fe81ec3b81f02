#include "restsync/store/connection.hpp"

#include <algorithm>
#include <optional>
#include <string_view>

#include "restsync/observe/log.hpp"

namespace restsync::db {

using namespace std::chrono_literals;

namespace {

// libpq prints NOTICEs (such as "relation already exists, skipping") on stderr
// by default; they are expected here and would only clutter the logs.
class quiet_notices : public pqxx::errorhandler {
 public:
  using pqxx::errorhandler::errorhandler;
  bool operator()(const char*) noexcept override { return false; }
};

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

// libpq's message without its trailing newline.
std::string_view message_of(const std::exception& e) {
  std::string_view m = e.what();
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.remove_suffix(1);
  return m;
}

}  // namespace

// The retries of one batch of commands on new connections, until
// reconnect_for: the first at once (a lost or read-only session usually has a
// good successor), later ones after a pause that doubles up to
// reconnect_max_backoff, so that a database still read-only is not hammered.
struct connection_thread::retry_budget {
  std::chrono::steady_clock::time_point deadline;
  int attempts = 0;
  std::chrono::milliseconds pause = reconnect_timing::first_pause;
};

connection_thread::connection_thread(const store_settings& settings, logger* log,
                                     command_handler& handler)
    : settings_(settings), log_(log), handler_(handler) {
  thread_ = std::thread([this] { loop(); });
}

connection_thread::~connection_thread() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  room_cv_.notify_all();
  thread_.join();
}

void connection_thread::enqueue(command c, completion done) {
  {
    std::unique_lock lock(mu_);
    room_cv_.wait(lock, [this] { return stopping_ || queue_.size() < max_queued_commands; });
    auto records = records_of(c);
    queue_.push_back({std::move(c), records, std::move(done)});
  }
  cv_.notify_one();
}

const std::string& connection_thread::statement(const std::string& name, const std::string& sql) {
  if (!prepared_.count(name)) {
    conn_->prepare(name, sql);
    prepared_.insert(name);
  }
  return name;
}

void connection_thread::loop() {
  for (;;) {
    std::vector<queued> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
      std::size_t records = batch.front().records;
      while (batchable(batch.front().cmd) && !queue_.empty() && batchable(queue_.front().cmd) &&
             records + queue_.front().records <= settings_.max_batch_records) {
        records += queue_.front().records;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    room_cv_.notify_all();
    run_batch(batch);
  }
  conn_.reset();
}

bool connection_thread::stop_requested_within(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, d, [this] { return stopping_; });
}

void connection_thread::connect_with_backoff() {
  auto deadline = std::chrono::steady_clock::now() + settings_.reconnect_for;
  auto backoff = reconnect_timing::first_pause;
  for (;;) {
    try {
      notices_.reset();
      conn_ = std::make_unique<pqxx::connection>(settings_.connection);
      notices_ = std::make_unique<quiet_notices>(*conn_);
      prepared_.clear();
      return;
    } catch (const std::exception& e) {
      conn_.reset();
      if (std::chrono::steady_clock::now() + backoff > deadline)
        throw store_error(std::string("cannot connect to PostgreSQL: ") + e.what());
      // Shutting down: the writes still queued are dropped rather than
      // held for the reconnect window (their records are read again by
      // the next run); a stop must not wait minutes for a database.
      if (stop_requested_within(backoff))
        throw store_error(std::string("cannot connect to PostgreSQL while shutting down: ") +
                          e.what());
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, settings_.reconnect_max_backoff);
    }
  }
}

void connection_thread::run_in_transaction(std::vector<queued*>& jobs,
                                           std::vector<command_result>& results) {
  if (!conn_ || !conn_->is_open()) connect_with_backoff();
  results.assign(jobs.size(), {});
  handler_.begin_transaction();
  try {
    pqxx::work tx(*conn_);
    for (size_t i = 0; i < jobs.size(); ++i) results[i] = handler_.run(tx, jobs[i]->cmd);
    handler_.before_commit(tx);
    tx.commit();
  } catch (...) {
    handler_.rolled_back();
    throw;
  }
  handler_.committed();
}

bool connection_thread::reconnect_after(const std::exception& e, retry_budget& retry) {
  auto reason = reconnect_reason(e, conn_.get());
  if (!reason) return false;
  // Dropped even when no retry follows: a read-only session would fail
  // every later command as well.
  conn_.reset();
  if (std::chrono::steady_clock::now() >= retry.deadline) return false;
  auto pause = 0ms;
  if (retry.attempts++ > 0) {
    pause = retry.pause;
    retry.pause =
        std::min<std::chrono::milliseconds>(retry.pause * 2, settings_.reconnect_max_backoff);
  }
  if (log_)
    log_->warn("database_reconnect", {{"reason", *reason},
                                      {"attempt", retry.attempts},
                                      {"wait_ms", pause.count()},
                                      {"error", message_of(e)}});
  if (pause > 0ms && stop_requested_within(pause)) return false;
  connect_with_backoff();
  return true;
}

std::optional<connection_thread::failure> connection_thread::run_retried(std::vector<queued*>& jobs,
                                                                         retry_budget& retry) {
  std::vector<command_result> results;
  for (;;) {
    try {
      run_in_transaction(jobs, results);
      for (size_t i = 0; i < jobs.size(); ++i) jobs[i]->done(nullptr, std::move(results[i]));
      return std::nullopt;
    } catch (const std::exception& e) {
      // The transaction rolled back with the connection: run it again on a new one.
      failure f{std::current_exception(), nullptr};
      try {
        if (reconnect_after(e, retry)) continue;
      } catch (...) {
        f.reconnect_error = std::current_exception();
      }
      return f;
    }
  }
}

void connection_thread::run_batch(std::vector<queued>& batch) {
  std::vector<queued*> all;
  for (auto& j : batch) all.push_back(&j);
  retry_budget retry{std::chrono::steady_clock::now() + settings_.reconnect_for};
  auto f = run_retried(all, retry);
  if (!f) return;
  if (f->reconnect_error) {
    for (auto* j : all) j->done(f->reconnect_error, {});
    return;
  }
  if (all.size() > 1) {
    // One bad page must not fail the others that shared its transaction.
    for (auto* j : all) {
      std::vector<queued*> one{j};
      if (auto g = run_retried(one, retry)) j->done(g->error, {});
    }
    return;
  }
  all.front()->done(f->error, {});
}

}  // namespace restsync::db

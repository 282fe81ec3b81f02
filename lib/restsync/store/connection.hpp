// One PostgreSQL connection and the thread that owns it: a bounded queue of
// typed commands, run in transactions (consecutive page writes share one:
// group commit), and the one loop that reconnects and runs a transaction
// again when the connection was lost or its session turned read-only.
// What a command does is the command_handler's.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "restsync/store/commands.hpp"

namespace restsync {
class logger;
}

namespace restsync::db {

// The reconnect timings that are not store_settings (reconnect_for and
// reconnect_max_backoff are).
struct reconnect_timing {
  // The first pause between two connection attempts and between two runs of
  // a failed transaction after the first retry; doubles up to
  // store_settings::reconnect_max_backoff.
  static constexpr std::chrono::milliseconds first_pause{250};
};

// Commands waiting for a connection thread, at most; store calls that find
// the queue full wait for room.
inline constexpr std::size_t max_queued_commands = 1024;

// What the connection thread calls; all on that thread.
class command_handler {
 public:
  // A transaction begins (its commands follow).
  virtual void begin_transaction() = 0;
  virtual command_result run(pqxx::work& tx, command& c) = 0;
  // The commands ran: the last statements before the commit.
  virtual void before_commit(pqxx::work& tx) = 0;
  virtual void committed() = 0;
  virtual void rolled_back() = 0;

 protected:
  ~command_handler() = default;
};

class connection_thread {
 public:
  using completion = std::function<void(std::exception_ptr, command_result)>;

  connection_thread(const store_settings& settings, logger* log, command_handler& handler);
  // Runs what is queued, then closes the connection (while the database is
  // unreachable, what is queued fails at once).
  ~connection_thread();
  connection_thread(const connection_thread&) = delete;
  connection_thread& operator=(const connection_thread&) = delete;

  // From any thread; waits while the queue is full. done is called on the
  // connection thread.
  void enqueue(command c, completion done);

  // The connection thread only: a statement prepared on the connection,
  // parsed and planned once per connection rather than on every execution.
  // A name must never be reused for other SQL.
  const std::string& statement(const std::string& name, const std::string& sql);

 private:
  struct queued {
    command cmd;
    std::size_t records = 0;
    completion done;
  };
  struct retry_budget;
  // A transaction that failed: its error, and the error of the reconnect
  // that followed, when no new connection could be opened.
  struct failure {
    std::exception_ptr error;
    std::exception_ptr reconnect_error;
  };

  void loop();
  void run_batch(std::vector<queued>& batch);
  // The one reconnect loop: runs the commands in one transaction, again on a
  // new connection while the failure is the connection's and the budget
  // lasts. Completes the commands when they commit; nullopt then.
  std::optional<failure> run_retried(std::vector<queued*>& jobs, retry_budget& retry);
  void run_in_transaction(std::vector<queued*>& jobs, std::vector<command_result>& results);
  bool reconnect_after(const std::exception& e, retry_budget& retry);
  void connect_with_backoff();
  bool stop_requested_within(std::chrono::milliseconds d);

  const store_settings& settings_;
  logger* log_;
  command_handler& handler_;

  std::mutex mu_;
  std::condition_variable cv_;       // work queued, or stopping
  std::condition_variable room_cv_;  // room in the queue
  std::deque<queued> queue_;
  bool stopping_ = false;

  // The connection thread's own.
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::errorhandler> notices_;
  std::unordered_set<std::string> prepared_;  // statements prepared on conn_

  std::thread thread_;
};

}  // namespace restsync::db

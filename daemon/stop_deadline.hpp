// The bound on a stop: if the process has not finished stopping when
// daemon.shutdown_timeout has passed since the signal, it exits anyway. Only
// the database can hold a stop up (a commit waiting for a server that does
// not answer), and a transaction that never committed is rolled back by
// PostgreSQL, so exiting leaves the tables and the sync state consistent.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "restsync/observe/log.hpp"

namespace restsyncd {

class stop_deadline {
 public:
  stop_deadline(std::chrono::milliseconds bound, restsync::logger& log);
  ~stop_deadline();  // the same as finish()
  stop_deadline(const stop_deadline&) = delete;
  stop_deadline& operator=(const stop_deadline&) = delete;

  // The stop completed in time.
  void finish();
  std::chrono::milliseconds remaining() const;

 private:
  std::chrono::steady_clock::time_point at_;
  std::chrono::milliseconds bound_;
  restsync::logger& log_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace restsyncd

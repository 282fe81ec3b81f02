// Drives the pure memory_budget on the event loop: a coroutine co_awaits a
// lease (or its growth) and resumes when the budget grants it; the lease
// gives its bytes back when it dies.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <map>
#include <set>

#include "restsync/memory_budget.hpp"

namespace restsync::sync {

class budget_driver;

// Bytes held for one response until its page is stored; movable, closes
// itself.
class budget_lease {
 public:
  budget_lease() = default;
  budget_lease(budget_driver* d, memory_budget::lease_id id) : driver_(d), id_(id) {}
  budget_lease(budget_lease&& o) noexcept : driver_(o.driver_), id_(o.id_) { o.driver_ = nullptr; }
  budget_lease& operator=(budget_lease&& o) noexcept;
  ~budget_lease() { reset(); }

  void reset();
  memory_budget::lease_id id() const { return id_; }
  explicit operator bool() const { return driver_ != nullptr; }

 private:
  budget_driver* driver_ = nullptr;
  memory_budget::lease_id id_ = 0;
};

class budget_driver {
 public:
  budget_driver(boost::asio::any_io_executor ex, std::size_t limit);

  // A lease of bytes, once they fit.
  boost::asio::awaitable<budget_lease> open(std::size_t bytes);
  // Resumes once the lease holds total bytes.
  boost::asio::awaitable<void> grow(memory_budget::lease_id id, std::size_t total);
  // The lease holds total bytes now, fitting or not.
  void force(memory_budget::lease_id id, std::size_t total);
  void close(memory_budget::lease_id id);

  const memory_budget& budget() const { return budget_; }

 private:
  boost::asio::awaitable<void> wait_for(memory_budget::lease_id id);
  void poll();

  boost::asio::any_io_executor ex_;
  memory_budget budget_;
  std::map<memory_budget::lease_id, boost::asio::steady_timer*> waiting_;
  std::set<memory_budget::lease_id> granted_;
};

}  // namespace restsync::sync

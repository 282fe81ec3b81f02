// Drives the pure memory_budget on the event loop: a coroutine co_awaits a
// lease (or its growth) and resumes when the budget grants it; the lease
// gives its bytes back when it dies.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <map>
#include <memory>
#include <set>

#include "restsync/flow/memory_budget.hpp"

namespace restsync::sync {

// The budget and its waiters. Shared with every lease and every wait: when
// the event loop shuts down, coroutine frames (and the leases in them) may be
// destroyed after the driver, in any order.
struct budget_state {
  explicit budget_state(std::size_t limit) : budget(limit) {}
  void close(memory_budget::lease_id id);
  void poll();

  memory_budget budget;
  std::map<memory_budget::lease_id, boost::asio::steady_timer*> waiting;
  std::set<memory_budget::lease_id> granted;
};

// Bytes held for one response until its page is stored; movable, closes
// itself.
class budget_lease {
 public:
  budget_lease() = default;
  budget_lease(std::weak_ptr<budget_state> s, memory_budget::lease_id id)
      : state_(std::move(s)), id_(id) {}
  budget_lease(budget_lease&& o) noexcept = default;
  budget_lease& operator=(budget_lease&& o) noexcept;
  ~budget_lease() { reset(); }

  void reset();
  memory_budget::lease_id id() const { return id_; }

 private:
  std::weak_ptr<budget_state> state_;
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

  const memory_budget& budget() const { return state_->budget; }

 private:
  boost::asio::any_io_executor ex_;
  std::shared_ptr<budget_state> state_;
};

}  // namespace restsync::sync

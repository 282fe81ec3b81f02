#include "restsync/sync/budget_driver.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace restsync::sync {

namespace asio = boost::asio;

budget_lease& budget_lease::operator=(budget_lease&& o) noexcept {
  if (this != &o) {
    reset();
    driver_ = o.driver_;
    id_ = o.id_;
    o.driver_ = nullptr;
  }
  return *this;
}

void budget_lease::reset() {
  if (driver_) driver_->close(id_);
  driver_ = nullptr;
}

budget_driver::budget_driver(asio::any_io_executor ex, std::size_t limit)
    : ex_(std::move(ex)), budget_(limit) {}

asio::awaitable<budget_lease> budget_driver::open(std::size_t bytes) {
  auto id = budget_.open(bytes);
  // Owned before the wait: a frame destroyed while it waits gives the lease back.
  budget_lease lease(this, id);
  poll();
  co_await wait_for(id);
  co_return lease;
}

asio::awaitable<void> budget_driver::grow(memory_budget::lease_id id, std::size_t total) {
  if (budget_.grow(id, total)) co_return;
  co_await wait_for(id);
}

asio::awaitable<void> budget_driver::wait_for(memory_budget::lease_id id) {
  if (granted_.erase(id)) co_return;
  asio::steady_timer wake(ex_, asio::steady_timer::time_point::max());
  waiting_[id] = &wake;
  // The timer never expires by itself: poll() cancels it on the grant.
  while (!granted_.count(id)) {
    boost::system::error_code ec;
    co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  waiting_.erase(id);
  granted_.erase(id);
}

void budget_driver::force(memory_budget::lease_id id, std::size_t total) {
  budget_.force(id, total);
  poll();
}

void budget_driver::close(memory_budget::lease_id id) {
  budget_.close(id);
  waiting_.erase(id);
  granted_.erase(id);
  poll();
}

void budget_driver::poll() {
  for (auto id : budget_.poll()) {
    granted_.insert(id);
    if (auto it = waiting_.find(id); it != waiting_.end()) it->second->cancel();
  }
}

}  // namespace restsync::sync

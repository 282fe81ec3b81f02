#include "restsync/flow/budget_driver.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace restsync::sync {

namespace asio = boost::asio;

namespace {

// Takes the waiter off the list however the wait ends, also when its frame
// is destroyed unresumed: a grant must never cancel a timer that is gone.
struct waiter {
  std::shared_ptr<budget_state> state;
  memory_budget::lease_id id;
  ~waiter() {
    state->waiting.erase(id);
    state->granted.erase(id);
  }
};

asio::awaitable<void> wait_for(asio::any_io_executor ex, std::shared_ptr<budget_state> state,
                               memory_budget::lease_id id) {
  if (state->granted.erase(id)) co_return;
  asio::steady_timer wake(ex, asio::steady_timer::time_point::max());
  waiter w{state, id};
  state->waiting[id] = &wake;
  // The timer never expires by itself: poll() cancels it on the grant.
  while (!state->granted.count(id)) {
    boost::system::error_code ec;
    co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace

void budget_state::close(memory_budget::lease_id id) {
  budget.close(id);
  waiting.erase(id);
  granted.erase(id);
  poll();
}

void budget_state::poll() {
  for (auto id : budget.poll()) {
    granted.insert(id);
    if (auto it = waiting.find(id); it != waiting.end()) it->second->cancel();
  }
}

budget_lease& budget_lease::operator=(budget_lease&& o) noexcept {
  if (this != &o) {
    reset();
    state_ = std::move(o.state_);
    id_ = o.id_;
  }
  return *this;
}

void budget_lease::reset() {
  if (auto s = state_.lock()) s->close(id_);
  state_.reset();
}

budget_driver::budget_driver(asio::any_io_executor ex, std::size_t limit)
    : ex_(std::move(ex)), state_(std::make_shared<budget_state>(limit)) {}

asio::awaitable<budget_lease> budget_driver::open(std::size_t bytes) {
  auto id = state_->budget.open(bytes);
  // Owned before the wait: a frame destroyed while it waits gives the lease back.
  budget_lease lease(state_, id);
  state_->poll();
  co_await wait_for(ex_, state_, id);
  co_return lease;
}

asio::awaitable<void> budget_driver::grow(memory_budget::lease_id id, std::size_t total) {
  if (state_->budget.grow(id, total)) co_return;
  co_await wait_for(ex_, state_, id);
}

void budget_driver::force(memory_budget::lease_id id, std::size_t total) {
  state_->budget.force(id, total);
  state_->poll();
}

}  // namespace restsync::sync

#include "restsync/flow/gate_driver.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace restsync::sync {

namespace asio = boost::asio;

gate_driver::gate_driver(asio::any_io_executor ex, const rate_gate_settings& settings)
    : ex_(ex), gate_(settings), poll_timer_(ex) {}

asio::awaitable<rate_gate::time_point> gate_driver::acquire(std::size_t resource) {
  auto t = gate_.enqueue(resource);
  asio::steady_timer wake(ex_, asio::steady_timer::time_point::max());
  waiting_[t.id] = &wake;
  poll();
  // The timer never expires by itself: poll() cancels it on the grant.
  while (!granted_.count(t.id)) {
    boost::system::error_code ec;
    co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  waiting_.erase(t.id);
  granted_.erase(t.id);
  co_return rate_gate::clock::now();
}

void gate_driver::on_rate_limited(rate_gate::time_point granted_at) {
  gate_.on_rate_limited(granted_at, rate_gate::clock::now());
}

void gate_driver::refund() {
  gate_.refund(rate_gate::clock::now());
  poll();
}

void gate_driver::pause_until(std::chrono::system_clock::time_point until) {
  auto left = until - std::chrono::system_clock::now();
  gate_.pause_until(rate_gate::clock::now() +
                    std::chrono::duration_cast<rate_gate::duration>(left));
  poll();
}

void gate_driver::poll() {
  auto result = gate_.poll(rate_gate::clock::now());
  for (const auto& t : result.granted) {
    granted_[t.id] = true;
    if (auto it = waiting_.find(t.id); it != waiting_.end()) it->second->cancel();
  }
  if (result.wake_at) schedule(*result.wake_at);
}

void gate_driver::schedule(rate_gate::time_point at) {
  if (scheduled_ && *scheduled_ <= at && *scheduled_ > rate_gate::clock::now()) return;
  scheduled_ = at;
  poll_timer_.expires_at(at);
  poll_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // rescheduled
    scheduled_.reset();
    poll();
  });
}

}  // namespace restsync::sync

// Drives the pure rate_gate on the event loop: a coroutine co_awaits
// acquire() and resumes when the gate grants its request.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>

#include "restsync/flow/rate_gate.hpp"

namespace restsync::sync {

class gate_driver {
 public:
  gate_driver(boost::asio::any_io_executor ex, const rate_gate_settings& settings);

  // Resumes once this request may be sent; fair across resources. Returns
  // when the gate granted it, for on_rate_limited.
  boost::asio::awaitable<rate_gate::time_point> acquire(std::size_t resource);

  // The answer to a request granted at granted_at was a 429: the gate slows
  // down (rate_gate::on_rate_limited). Call before pause_until.
  void on_rate_limited(rate_gate::time_point granted_at);
  // A granted request is being written now (rate_gate::on_sent).
  void on_sent() { gate_.on_sent(rate_gate::clock::now()); }
  // An answer that was not a 429: the learned rate may grow.
  void on_accepted() { gate_.on_accepted(rate_gate::clock::now()); }
  // Requests per second the gate now allows; 0: no limit.
  double allowed_rate() const { return gate_.allowed_rate(); }
  // rate_gate::set_configured_rate; wakes waiters that may go sooner.
  void set_configured_rate(double rps) {
    gate_.set_configured_rate(rps);
    poll();
  }

  // A request acquire() let through was not sent: its token goes back.
  void refund();

  // Everybody waits until then (a 429's Retry-After or backoff).
  void pause_until(std::chrono::system_clock::time_point until);

 private:
  void poll();
  void schedule(rate_gate::time_point at);

  boost::asio::any_io_executor ex_;
  rate_gate gate_;
  boost::asio::steady_timer poll_timer_;
  std::optional<rate_gate::time_point> scheduled_;
  // Waiting requests by ticket id; a granted one has its timer cancelled.
  std::map<std::uint64_t, boost::asio::steady_timer*> waiting_;
  std::map<std::uint64_t, bool> granted_;
};

}  // namespace restsync::sync

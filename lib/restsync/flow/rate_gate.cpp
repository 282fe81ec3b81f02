#include "restsync/flow/rate_gate.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace restsync {

rate_gate::rate_gate(const rate_gate_settings& settings) {
  const double rps = settings.requests_per_second;
  if (!std::isfinite(rps) || rps < 0) {
    throw std::invalid_argument("rate_gate: requests_per_second must be a finite number >= 0");
  }
  const double burst = settings.burst.value_or(std::max(1.0, rps));
  if (!std::isfinite(burst) || burst < 1) {
    throw std::invalid_argument("rate_gate: burst must be a finite number >= 1");
  }
  if (rps == 0) return;
  const double ticks_per_second =
      static_cast<double>(duration::period::den) / duration::period::num;
  // A rate so high that its interval is under one tick is as good as
  // unlimited, but stays limited so that a configured rate always holds.
  interval_ = duration{
      std::max<duration::rep>(1, static_cast<duration::rep>(std::ceil(ticks_per_second / rps)))};
  tolerance_ = duration{
      static_cast<duration::rep>(std::floor((burst - 1) * static_cast<double>(interval_.count())))};
}

rate_gate::ticket rate_gate::enqueue(std::size_t resource) {
  auto& r = resources_[resource];
  if (r.queue.empty()) round_.push_back(resource);
  const ticket t{resource, next_id_++};
  r.queue.push_back(t.id);
  ++queued_;
  return t;
}

void rate_gate::refund(time_point now) {
  ++refunds_;
  if (unlimited()) return;
  // TAT at or before now already means a full bucket; it never goes further
  // back (nor underflows from its initial minimum).
  if (tat_ > now) tat_ = std::max(tat_ - interval_, now);
}

rate_gate::poll_result rate_gate::poll(time_point now) {
  poll_result out;
  if (queued_ == 0) return out;
  if (paused_at(now)) {
    out.wake_at = *pause_;
    return out;
  }
  while (queued_ > 0) {
    if (!unlimited()) {
      const time_point tat = std::max(tat_, now);
      const time_point allowed_at = tat - tolerance_;
      if (allowed_at > now) {
        out.wake_at = allowed_at;
        break;
      }
      tat_ = tat + interval_;
    }
    const std::size_t resource = round_.front();
    round_.pop_front();
    auto& r = resources_[resource];
    const std::uint64_t id = r.queue.front();
    r.queue.pop_front();
    if (!r.queue.empty()) round_.push_back(resource);
    --queued_;
    ++total_grants_;
    out.granted.push_back({resource, id});
  }
  return out;
}

void rate_gate::pause_until(time_point until) {
  if (pause_ && until <= *pause_) return;
  pause_ = until;
  ++pauses_;
  // One token at the end of the pause (see the class comment); a bucket
  // already emptier than that stays as it is.
  if (!unlimited()) tat_ = std::max(tat_, until + tolerance_);
}

std::optional<rate_gate::time_point> rate_gate::paused_until() const { return pause_; }

std::size_t rate_gate::queued(std::size_t resource) const {
  auto it = resources_.find(resource);
  return it == resources_.end() ? 0 : it->second.queue.size();
}

}  // namespace restsync

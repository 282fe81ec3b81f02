#include "restsync/flow/rate_gate.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace restsync {

namespace {
constexpr std::size_t max_recent_grants = 4096;
}

rate_gate::rate_gate(const rate_gate_settings& settings) {
  const double rps = settings.requests_per_second;
  if (!std::isfinite(rps) || rps < 0) {
    throw std::invalid_argument("rate_gate: requests_per_second must be a finite number >= 0");
  }
  const double burst = settings.burst.value_or(std::max(1.0, rps));
  if (!std::isfinite(burst) || burst < 1) {
    throw std::invalid_argument("rate_gate: burst must be a finite number >= 1");
  }
  if (!std::isfinite(settings.spacing_margin) || settings.spacing_margin < 0 ||
      settings.spacing_margin > 1) {
    throw std::invalid_argument("rate_gate: spacing_margin must be within [0, 1]");
  }
  spacing_margin_ = settings.spacing_margin;
  configured_rps_ = base_rps_ = rps;
  configured_burst_ = base_burst_ = burst;
  set_rate(rps, burst);
}

void rate_gate::set_rate(double rps, double burst) {
  if (rps == 0) {
    interval_ = tolerance_ = duration::zero();
    return;
  }
  const double ticks_per_second =
      static_cast<double>(duration::period::den) / duration::period::num;
  // A rate so high that its interval is under one tick is as good as
  // unlimited, but stays limited so that a configured rate always holds.
  interval_ = duration{std::max<duration::rep>(
      1, static_cast<duration::rep>(std::ceil(ticks_per_second * (1 + spacing_margin_) / rps)))};
  tolerance_ = duration{
      static_cast<duration::rep>(std::floor((burst - 1) * static_cast<double>(interval_.count())))};
}

double rate_gate::allowed_rate() const { return learned_ ? *learned_ : configured_rps_; }

void rate_gate::set_configured_rate(double rps) {
  if (base_rps_ == 0 || !(rps > 0) || rps == configured_rps_) return;
  // The burst scales with the rate, at least one request.
  configured_burst_ = std::max(1.0, base_burst_ * std::min(1.0, rps / base_rps_));
  configured_rps_ = rps;
  if (learned_ && *learned_ >= rps) learned_.reset();
  if (!learned_) set_rate(configured_rps_, configured_burst_);
}

void rate_gate::on_rate_limited(time_point granted_at, time_point now) {
  if (slowed_at_ && granted_at < *slowed_at_) return;  // sent before the last slowdown
  double from = allowed_rate();
  if (from == 0) {
    while (!recent_grants_.empty() && recent_grants_.front() <= now - std::chrono::seconds{1})
      recent_grants_.pop_front();
    from = std::max(1.0, static_cast<double>(recent_grants_.size()));
    recent_grants_.clear();
  }
  double next = from * adapt::decrease_factor;
  if (auto taken = taken_rate(now)) {
    next = std::min(from, *taken) * adapt::below_taken;
    ceiling_ = *taken;
  }
  learned_ = std::max(adapt::min_rate, next);
  slowed_at_ = now;
  ++slowdowns_;
  set_rate(*learned_, 1);
  // Whatever the bucket held at the old rate is not the server's to give.
  tat_ = std::max(tat_, now);
}

void rate_gate::on_sent(time_point sent_at) {
  if (unlimited()) return;
  tat_ = std::max(tat_, sent_at + interval_);
}

std::optional<double> rate_gate::taken_rate(time_point now) {
  const auto window =
      std::chrono::duration_cast<duration>(std::chrono::duration<double>(adapt::window_seconds));
  while (!accepted_.empty() && accepted_.front() < now - window) accepted_.pop_front();
  if (accepted_.empty()) return std::nullopt;
  // The gaps between the answers over the time they span; a single answer
  // counts as one over the time since. At least a second: one answer just
  // before a burst of 429s says "about one a second", not "thousands".
  const auto last = accepted_.size() > 1 ? accepted_.back() : now;
  const double span =
      std::max(1.0, std::chrono::duration<double>(last - accepted_.front()).count());
  const auto gaps = std::max<std::size_t>(1, accepted_.size() - 1);
  return static_cast<double>(gaps) / span;
}

void rate_gate::on_accepted(time_point now) {
  accepted_.push_back(now);
  if (accepted_.size() > max_recent_grants) accepted_.pop_front();
  if (!learned_) return;
  // One answer at rate r stands for 1/r seconds of them.
  double gain = adapt::increase_per_second;
  if (ceiling_ && *learned_ >= *ceiling_ * adapt::near_ceiling) gain /= 10;
  const double next = *learned_ + gain / *learned_;
  if (configured_rps_ > 0 && next >= configured_rps_) {
    learned_.reset();
    set_rate(configured_rps_, configured_burst_);
    return;
  }
  learned_ = next;
  set_rate(next, 1);
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
    if (unlimited()) {
      recent_grants_.push_back(now);
      // Only the last second counts; a burst larger than this is capped.
      if (recent_grants_.size() > max_recent_grants) recent_grants_.pop_front();
    }
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

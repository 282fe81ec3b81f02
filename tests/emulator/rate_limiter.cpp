#include "rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace emulator {

token_bucket::token_bucket(double rate)
    : rate_(rate), burst_(std::max(1.0, rate)), tokens_(burst_) {}

double token_bucket::tokens_at(clock::time_point now) const {
  if (!last_ || now <= *last_) return tokens_;
  std::chrono::duration<double> elapsed = now - *last_;
  return std::min(burst_, tokens_ + elapsed.count() * rate_);
}

token_bucket::clock::duration token_bucket::wait(clock::time_point now) const {
  auto tokens = tokens_at(now);
  if (rate_ <= 0 || tokens >= 1.0) return clock::duration::zero();
  auto wait = std::chrono::duration<double>((1.0 - tokens) / rate_);
  return std::max(clock::duration(1), std::chrono::ceil<clock::duration>(wait));
}

std::optional<token_bucket::clock::duration> token_bucket::try_take(clock::time_point now) {
  if (rate_ <= 0) return std::nullopt;
  tokens_ = tokens_at(now);
  if (!last_ || now > *last_) last_ = now;
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return std::nullopt;
  }
  return wait(now);
}

}  // namespace emulator

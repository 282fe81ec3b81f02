// The API's rate limit: one token bucket shared by every API path.
#pragma once

#include <chrono>
#include <optional>

namespace emulator {

class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  // rate in tokens per second (0 = unlimited); burst = max(1, rate); starts full.
  explicit token_bucket(double rate = 0);

  double rate() const { return rate_; }
  // Takes a token if one is there at now. Otherwise nothing is taken and the
  // result is how long until one will be.
  std::optional<clock::duration> try_take(clock::time_point now);
  // How long until a token is there (zero if one is now); takes nothing.
  clock::duration wait(clock::time_point now) const;

 private:
  double rate_;
  double burst_;
  double tokens_;
  double tokens_at(clock::time_point now) const;
  std::optional<clock::time_point> last_;
};

}  // namespace emulator

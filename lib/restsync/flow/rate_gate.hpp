// The one process-wide gate every request passes before it is sent: a token
// bucket, a global pause that any 429 sets, and round-robin fairness between
// resources. A pure state machine: time comes in, grants and a wake-up go out.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

namespace restsync {

struct rate_gate_settings {
  // Sustained rate, never exceeded; 0: no limit of our own, the gate learns
  // the API's from its 429s (the pause applies in any case).
  double requests_per_second = 0;
  // Bucket size in requests; absent means max(1, requests_per_second).
  std::optional<double> burst;
  // Requests are spaced this much wider than the rate says (1%): the
  // server counts from when each request arrives, and arrivals jitter by
  // milliseconds, so a client spaced exactly 1/rate apart meets 429s now and
  // then; each costs a pause and a slowdown far larger than the margin.
  double spacing_margin = 0.01;
};

// The bucket is kept as a theoretical arrival time (GCRA) in integer clock
// ticks rather than a floating token count, so a long run holds the rate
// exactly: in any window of length W at most burst + W * rate requests pass.
// The interval between requests is (1 + spacing_margin) / rate rounded *up*
// to a clock tick, so rounding can only make the gate slower, never faster.
//
// After a pause the bucket restarts with one token, not a full burst: the
// server just said we were too fast, and a burst at the end of the pause is
// exactly what earns the next 429.
//
// Waiting requests are granted round-robin across resources and FIFO within
// one, so a resource with many queued pages cannot starve one with a single
// request: a resource that starts waiting joins the end of the current round.
//
// The limit adapts to the API's (AIMD, as TCP does with its window): a 429
// means "slower", once per slowdown (429s to requests granted before it are
// the same news): the rate the gate allows becomes adapt::below_taken of the
// rate the API answered at over the last seconds, or, with no answer to go
// by, is multiplied by adapt::decrease_factor. Every answer that is not a
// 429 adds to it, about adapt::increase_per_second each second (a tenth of
// that close to the rate that met the last 429), never above the
// configured rate.
// A learned rate sends one request at a time (no burst). Without a configured
// rate the first 429 starts from the rate of the last second's grants.
class rate_gate {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = clock::duration;

  // Identifies one waiting request. Ids are unique for the gate's lifetime.
  struct ticket {
    std::size_t resource = 0;
    std::uint64_t id = 0;
    friend bool operator==(const ticket&, const ticket&) = default;
  };

  struct poll_result {
    // In grant order; each may be sent now.
    std::vector<ticket> granted;
    // When to poll again; always later than the poll's `now`. Absent when
    // nothing is waiting (poll again after the next enqueue).
    std::optional<time_point> wake_at;
  };

  // Throws std::invalid_argument for a negative or non-finite rate, or a
  // burst below 1 or non-finite.
  explicit rate_gate(const rate_gate_settings& settings = {});

  // Queues a request of `resource`; grants happen only in poll().
  ticket enqueue(std::size_t resource);

  // Grants as many waiting requests as the bucket and the pause allow at `now`.
  poll_result poll(time_point now);

  // A granted request was not sent after all (it turned out unneeded): its
  // token goes back to the bucket, since the server never saw the request.
  // The bucket never holds more than its burst.
  void refund(time_point now);

  // Nobody is granted before `until`; a pause only ever extends.
  void pause_until(time_point until);

  // The tuning of the adaptive limit.
  struct adapt {
    // Without a measure of what the API took (below), a 429 cuts the rate
    // by this factor.
    static constexpr double decrease_factor = 0.7;
    // With one: the rate becomes this share of the rate at which the API
    // answered lately (not 429) over the last `window` seconds (at least
    // one): the limit found in one step, not in a descent of 429s.
    static constexpr double below_taken = 0.9;
    static constexpr double window_seconds = 5;
    // Learned rate gained per second of answers that are not 429s; a tenth
    // of it within 5% of the rate that last met a 429, so that the gate
    // stays just under a limit it found instead of meeting it again soon.
    static constexpr double increase_per_second = 0.02;
    static constexpr double near_ceiling = 0.95;
    // Never below one request a minute: an API that still answers 429 at
    // that pace is refusing, and the retry budget ends the wait.
    static constexpr double min_rate = 1.0 / 60;
  };
  // A granted request went out at `sent_at`, later than granted (a
  // connection had to be opened first). The server counts from when a
  // request arrives, so the next one waits a full interval from then:
  // otherwise the request after a connect arrives early by the connect's
  // time and earns a 429.
  void on_sent(time_point sent_at);

  // A request the gate granted at `granted_at` was answered 429 at `now`.
  // Call before pause_until, so that the pause ends on one token.
  void on_rate_limited(time_point granted_at, time_point now);
  // A request was answered with anything but a 429, at `now`.
  void on_accepted(time_point now);
  // Requests per second the gate now allows; 0: no limit.
  double allowed_rate() const;
  // A new configured rate (when daemons sharing an API key come and go:
  // each takes its share); a learned rate above it is dropped. 0 (no
  // limit) stays 0.
  void set_configured_rate(double rps);
  // The rate learned from 429s, while it is below the configured rate.
  std::optional<double> learned_rate() const { return learned_; }
  // Slowdowns (on_rate_limited calls that lowered the rate).
  std::uint64_t slowdowns() const { return slowdowns_; }

  bool unlimited() const { return interval_ == duration::zero(); }
  // The current pause's end; nothing is paused at or after it.
  std::optional<time_point> paused_until() const;
  std::size_t queued() const { return queued_; }
  std::size_t queued(std::size_t resource) const;
  std::uint64_t total_grants() const { return total_grants_; }
  // Pauses that moved the pause's end later.
  std::uint64_t pauses() const { return pauses_; }
  std::uint64_t refunds() const { return refunds_; }

 private:
  struct resource_state {
    std::deque<std::uint64_t> queue;  // waiting ticket ids, FIFO
  };

  bool paused_at(time_point now) const { return pause_ && now < *pause_; }
  void set_rate(double rps, double burst);

  double configured_rps_ = 0;
  // As constructed, before any set_configured_rate.
  double base_rps_ = 0;
  double base_burst_ = 1;
  double spacing_margin_ = 0;
  double configured_burst_ = 1;
  std::optional<double> learned_;
  // When the rate last went down; 429s to requests granted before are old news.
  std::optional<time_point> slowed_at_;
  // Grant times of the last second, kept while there is no limit at all: the
  // first 429 starts the learned rate from them.
  std::deque<time_point> recent_grants_;
  // Answers that were not 429s within the last adapt::window_seconds.
  std::deque<time_point> accepted_;
  // The rate the API took when it last answered 429.
  std::optional<double> ceiling_;
  std::uint64_t slowdowns_ = 0;
  std::optional<double> taken_rate(time_point now);

  duration interval_{0};   // zero: unlimited
  duration tolerance_{0};  // (burst - 1) intervals
  time_point tat_ = time_point::min();
  std::optional<time_point> pause_;
  std::map<std::size_t, resource_state> resources_;
  // Resources with waiting requests, in grant order.
  std::deque<std::size_t> round_;
  std::size_t queued_ = 0;
  std::uint64_t next_id_ = 1;
  std::uint64_t total_grants_ = 0;
  std::uint64_t pauses_ = 0;
  std::uint64_t refunds_ = 0;
};

}  // namespace restsync

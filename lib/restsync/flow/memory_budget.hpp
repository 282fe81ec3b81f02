// Bytes held for responses at once, across every resource: bodies being read
// and parsed pages waiting for the store. A request opens a lease before it
// is sent, grows it when its body's size is known, and closes it once its
// page is stored. Pure: requests in, grants out; the engine's driver waits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <vector>

namespace restsync {

// What a page holds at its peak per byte of its body: the body, the parsed
// document and the store's copy of its values. Measured: one 60 MB page
// raised restsyncd's peak RSS by about 230 MB.
inline constexpr std::size_t page_memory_factor = 4;
// What a request reserves before its resource has shown a page.
inline constexpr std::size_t first_page_reservation = std::size_t{256} << 10;

class memory_budget {
 public:
  using lease_id = std::uint64_t;

  // Throws std::invalid_argument for a limit of 0.
  explicit memory_budget(std::size_t limit);

  // A new lease asking for bytes; granted by poll(), in the order asked.
  // Opens wait while any grow waits (requests in flight come first) and
  // while the bytes would not fit, unless nothing is held at all: one
  // response larger than the whole budget still goes, alone.
  lease_id open(std::size_t bytes);
  // The lease needs total bytes now (its body's length is known). True when
  // that is granted at once; otherwise poll() grants it, when it fits or
  // when the lease is the oldest one open (the oldest always proceeds, so
  // that leases waiting on each other cannot stall: the budget is then
  // exceeded by that one response at most).
  bool grow(lease_id id, std::size_t total);
  // The lease holds total bytes, fitting or not: a body of unannounced
  // length that was read whole. Later opens wait until it fits again.
  void force(lease_id id, std::size_t total);
  // Gives back what the lease holds and forgets its requests.
  void close(lease_id id);

  // The leases whose open or grow was granted since the last poll.
  std::vector<lease_id> poll();

  std::size_t limit() const { return limit_; }
  std::size_t held() const { return held_; }
  std::size_t held_by(lease_id id) const;
  std::size_t waiting() const { return opens_.size() + grows_.size(); }

 private:
  struct lease {
    std::size_t held = 0;
    std::size_t wanted = 0;  // a pending open or grow asks for this total
  };
  bool fits(const lease& l, std::size_t total) const;

  std::size_t limit_;
  std::size_t held_ = 0;
  lease_id next_ = 1;
  std::map<lease_id, lease> leases_;  // by age: the first is the oldest
  std::deque<lease_id> opens_;
  std::set<lease_id> grows_;  // leases waiting to grow, oldest first
};

}  // namespace restsync

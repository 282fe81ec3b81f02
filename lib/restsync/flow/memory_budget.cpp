#include "restsync/flow/memory_budget.hpp"

#include <algorithm>
#include <stdexcept>

namespace restsync {

memory_budget::memory_budget(std::size_t limit) : limit_(limit) {
  if (limit == 0) throw std::invalid_argument("memory budget: the limit must be above 0");
}

memory_budget::lease_id memory_budget::open(std::size_t bytes) {
  auto id = next_++;
  leases_[id].wanted = bytes;
  opens_.push_back(id);
  return id;
}

bool memory_budget::fits(const lease& l, std::size_t total) const {
  return held_ - l.held + total <= limit_;
}

bool memory_budget::grow(lease_id id, std::size_t total) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return true;
  auto& l = it->second;
  if (total <= l.held) return true;
  const bool older_waiting = !grows_.empty() && *grows_.begin() < id;
  if (it == leases_.begin() || (!older_waiting && fits(l, total))) {
    held_ += total - l.held;
    l.held = total;
    return true;
  }
  l.wanted = total;
  grows_.insert(id);
  return false;
}

void memory_budget::force(lease_id id, std::size_t total) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return;
  held_ = held_ - it->second.held + total;
  it->second.held = total;
}

void memory_budget::close(lease_id id) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return;
  held_ -= it->second.held;
  leases_.erase(it);
  grows_.erase(id);
  opens_.erase(std::remove(opens_.begin(), opens_.end(), id), opens_.end());
}

std::vector<memory_budget::lease_id> memory_budget::poll() {
  std::vector<lease_id> granted;
  while (!grows_.empty()) {
    auto id = *grows_.begin();
    auto& l = leases_.at(id);
    if (!fits(l, l.wanted) && leases_.begin()->first != id) break;
    held_ += l.wanted - l.held;
    l.held = l.wanted;
    grows_.erase(grows_.begin());
    granted.push_back(id);
  }
  while (grows_.empty() && !opens_.empty()) {
    auto id = opens_.front();
    auto& l = leases_.at(id);
    if (held_ != 0 && !fits(l, l.wanted)) break;
    held_ += l.wanted;
    l.held = l.wanted;
    opens_.pop_front();
    granted.push_back(id);
  }
  return granted;
}

std::size_t memory_budget::held_by(lease_id id) const {
  auto it = leases_.find(id);
  return it == leases_.end() ? 0 : it->second.held;
}

}  // namespace restsync

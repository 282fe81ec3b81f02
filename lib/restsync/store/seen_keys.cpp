#include "restsync/store/seen_keys.hpp"

#include <algorithm>

namespace restsync::db {

std::uint64_t key_hash(std::uint64_t seed, std::string_view key) {
  std::uint64_t h = 14695981039346656037ull ^ seed;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

std::int64_t seen_keys::end_pass() {
  std::sort(pass_.begin(), pass_.end());
  // Which keys repeated: each repeat adds its key's hash (wrapping), so the
  // sum does not depend on the order the pages came in.
  repeat_digest_ = 0;
  for (std::size_t i = 1; i < pass_.size(); ++i)
    if (pass_[i] == pass_[i - 1]) repeat_digest_ += pass_[i];
  auto before = pass_.size();
  pass_.erase(std::unique(pass_.begin(), pass_.end()), pass_.end());
  auto repeated = static_cast<std::int64_t>(before - pass_.size());
  if (seen_.empty()) {
    // The first scan (nearly always the only one): its keys become seen
    // as they are, without a second copy at the peak.
    seen_.swap(pass_);
  } else {
    auto middle = static_cast<std::ptrdiff_t>(seen_.size());
    seen_.insert(seen_.end(), pass_.begin(), pass_.end());
    std::inplace_merge(seen_.begin(), seen_.begin() + middle, seen_.end());
    seen_.erase(std::unique(seen_.begin(), seen_.end()), seen_.end());
  }
  pass_.clear();
  pass_.shrink_to_fit();
  return repeated;
}

bool seen_keys::saw(std::string_view key) const {
  return std::binary_search(seen_.begin(), seen_.end(), hash(key));
}

}  // namespace restsync::db

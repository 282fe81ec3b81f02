// Deletion evidence: the keys a run has seen, as 64-bit hashes (8 bytes a
// key; 900,000 keys: 7 MiB), pass by pass. A key is a record_key; the rows
// of the table render theirs the same way, so a row whose key no pass saw is
// a record the API no longer returns.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace restsync::db {

// A record key's 64-bit hash: FNV-1a from a per-run seed, then a splitmix64
// finish. A collision can only make an unseen key look seen, so a deletion
// may be missed, never a live record marked deleted; with a seed drawn per
// run the same pair does not collide again in the next run.
std::uint64_t key_hash(std::uint64_t seed, std::string_view key);

class seen_keys {
 public:
  explicit seen_keys(std::uint64_t seed = 0) : seed_(seed) {}

  std::uint64_t hash(std::string_view key) const { return key_hash(seed_, key); }

  // Adds committed keys (hashes) to the pass in progress.
  void add(std::span<const std::uint64_t> hashes) {
    pass_.insert(pass_.end(), hashes.begin(), hashes.end());
  }

  // Folds the pass into the keys seen; returns how many of its keys were
  // repeats within the pass (records met twice by one scan).
  std::int64_t end_pass();
  // Which keys the last ended pass met more than once, as an order-free
  // digest of their hashes (0: none). Two passes of one run that repeated
  // the same keys as often have the same digest; hashes are seeded per
  // run, so digests of different runs do not compare.
  std::uint64_t repeat_digest() const { return repeat_digest_; }

  // Whether an ended pass saw the key (the pass in progress does not count).
  bool saw(std::string_view key) const;

  // Keys seen by the ended passes.
  std::size_t size() const { return seen_.size(); }

 private:
  std::uint64_t seed_;
  std::vector<std::uint64_t> pass_;  // the pass in progress, unsorted
  std::vector<std::uint64_t> seen_;  // earlier passes' keys, sorted, unique
  std::uint64_t repeat_digest_ = 0;
};

}  // namespace restsync::db

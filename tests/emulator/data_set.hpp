// The records of all nine resources and the order paging serves them in.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "record.hpp"
#include "resources.hpp"
#include "settings.hpp"

namespace emulator {

struct collection {
  // Storage order. The feed is kept ascending by `when` and served reversed
  // under feed_order; every other resource is served in storage order.
  std::vector<record> records;
  std::uint64_t next_serial = 0;
  std::int64_t clock = 0;     // latest timestamp any record was given
  std::uint64_t changes = 0;  // generated changes so far, the seed of the next one
};

class data_set {
 public:
  data_set(std::uint64_t seed, const std::array<std::size_t, resource_count>& sizes);

  std::uint64_t seed() const { return seed_; }
  std::size_t size(std::size_t resource) const { return collections_[resource].records.size(); }
  bool reversed(std::size_t resource, quirk_set quirks) const {
    return resource == accounts_feeds && quirks.has(quirk::feed_order);
  }
  // Storage index of the record at a paging position.
  std::size_t index_at(std::size_t resource, std::size_t position, quirk_set quirks) const {
    return reversed(resource, quirks) ? size(resource) - 1 - position : position;
  }
  // The `duplicate` quirk: the paging position (if any) that serves the
  // first record a second time; positions after it serve the record before.
  std::optional<std::size_t> duplicate_at(std::size_t resource, quirk_set quirks) const;
  // Paging positions served: the records, and the duplicate.
  std::size_t served_size(std::size_t resource, quirk_set quirks) const {
    return size(resource) + (duplicate_at(resource, quirks) ? 1 : 0);
  }
  // Storage index of the record served at a paging position.
  std::size_t served_index(std::size_t resource, std::size_t position, quirk_set quirks) const {
    if (auto d = duplicate_at(resource, quirks)) {
      if (position == *d) return index_at(resource, 0, quirks);
      if (position > *d) --position;
    }
    return index_at(resource, position, quirks);
  }

  void append_record(std::string& out, std::size_t resource, const record& r,
                     quirk_set quirks) const;
  // Records at paging positions [begin, end), comma-separated.
  void append_range(std::string& out, std::size_t resource, std::size_t begin, std::size_t end,
                    quirk_set quirks) const;
  std::string truth(std::size_t resource, quirk_set quirks) const;

  collection& at(std::size_t resource) { return collections_[resource]; }
  const collection& at(std::size_t resource) const { return collections_[resource]; }
  // A timestamp newer than every one the resource holds.
  std::int64_t fresh_time(std::size_t resource);

 private:
  std::uint64_t seed_;
  std::array<collection, resource_count> collections_;
};

}  // namespace emulator

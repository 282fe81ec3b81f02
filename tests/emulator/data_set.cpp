#include "data_set.hpp"

#include <algorithm>
#include <thread>

#include "generator.hpp"

namespace emulator {
namespace {

constexpr std::size_t first_page = 50;

collection generate_collection(std::size_t resource, std::uint64_t seed, std::size_t n) {
  collection c;
  c.records.reserve(n);
  for (std::uint64_t serial = 0; serial < n; ++serial) {
    std::int64_t latest = 0;
    auto r =
        generate_record(resource, seed, serial, timestamp_for(resource, seed, serial), &latest);
    // Late records stay off page one in either feed order.
    r.late = !resources()[resource].singleton && serial >= first_page &&
             (resource != accounts_feeds || serial + first_page < n);
    c.clock = std::max(c.clock, latest);
    c.records.push_back(std::move(r));
  }
  c.next_serial = n;
  return c;
}

}  // namespace

data_set::data_set(std::uint64_t seed, const std::array<std::size_t, resource_count>& sizes)
    : seed_(seed) {
  // Records depend only on (seed, resource, serial), so generating resources on
  // several threads changes nothing but the start-up time.
  std::vector<std::thread> workers;
  for (std::size_t r = 0; r < resource_count; ++r)
    workers.emplace_back(
        [this, r, seed, n = sizes[r]] { collections_[r] = generate_collection(r, seed, n); });
  for (auto& t : workers) t.join();
}

void data_set::append_record(std::string& out, std::size_t resource, const record& r,
                             quirk_set quirks) const {
  if (r.late && quirks.has(quirk::late_fields)) {
    append_late(out, resource, seed_, r);
  } else {
    out += r.json;
  }
}

void data_set::append_range(std::string& out, std::size_t resource, std::size_t begin,
                            std::size_t end, quirk_set quirks) const {
  auto& records = collections_[resource].records;
  for (auto p = begin; p < end; ++p) {
    if (p != begin) out += ',';
    append_record(out, resource, records[index_at(resource, p, quirks)], quirks);
  }
}

std::optional<std::size_t> data_set::duplicate_at(std::size_t resource, quirk_set quirks) const {
  if (resource != labels || !quirks.has(quirk::duplicate) || size(resource) == 0)
    return std::nullopt;
  // On the second page of 50 when there is one, at the end otherwise.
  return std::min<std::size_t>(size(resource), 52);
}

std::string data_set::truth(std::size_t resource, quirk_set quirks) const {
  std::string out;
  std::size_t bytes = 2;
  for (auto& r : collections_[resource].records) bytes += r.json.size() + 1;
  out.reserve(bytes + (quirks.has(quirk::late_fields) ? size(resource) * 160 : 0));
  out += '[';
  append_range(out, resource, 0, size(resource), quirks);
  out += ']';
  return out;
}

std::int64_t data_set::fresh_time(std::size_t resource) {
  auto& c = collections_[resource];
  c.clock = std::max(c.clock + 1, timestamp_for(resource, seed_, c.next_serial));
  return c.clock;
}

}  // namespace emulator

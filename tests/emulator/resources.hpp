// The nine resources of the analytics API: name, path, key and how they page.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace emulator {

enum class key_type { integer, string };

struct resource_info {
  std::string_view name;
  std::string_view path;
  std::string_view key;
  key_type key_kind;
  bool singleton;
  // The field that takes another JSON type on late records (late_fields quirk).
  std::string_view drift_field;
  std::string_view updated_field;  // bumped by a change; empty if none
  std::size_t default_records;
};

inline constexpr std::size_t resource_count = 9;

enum resource_index : std::size_t {
  accounts,
  accounts_feeds,
  users,
  smartcode,
  campaigns,
  custom_widgets,
  thresholds,
  integrations,
  labels,
};

const std::array<resource_info, resource_count>& resources();
// Index of the resource with that name or path, or resource_count.
std::size_t find_resource_by_name(std::string_view name);
std::size_t find_resource_by_path(std::string_view path);

}  // namespace emulator

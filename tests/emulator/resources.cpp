#include "resources.hpp"

namespace emulator {

const std::array<resource_info, resource_count>& resources() {
  static const std::array<resource_info, resource_count> table{{
      {"accounts", "/v1/accounts", "id", key_type::integer, false, "isMainAccount", "", 3},
      {"accounts_feeds", "/v1/accounts/current/feeds", "id", key_type::string, false, "type", "",
       120},
      {"users", "/v1/accounts/current/users", "id", key_type::integer, false, "account", "", 75},
      {"smartcode", "/v1/accounts/current/smartcode", "uid", key_type::string, true, "", "", 1},
      {"campaigns", "/v1/accounts/current/campaigns", "id", key_type::integer, false, "primaryGoal",
       "", 80},
      {"custom_widgets", "/v1/accounts/current/changesets", "id", key_type::integer, false,
       "createdBy", "updatedAt", 60},
      {"thresholds", "/v1/accounts/current/thresholds", "uid", key_type::string, true, "", "", 1},
      {"integrations", "/v1/accounts/current/integrations", "uid", key_type::string, true, "", "",
       1},
      {"labels", "/v1/accounts/current/labels", "id", key_type::integer, false, "name", "", 55},
  }};
  return table;
}

std::size_t find_resource_by_name(std::string_view name) {
  for (std::size_t i = 0; i < resource_count; ++i)
    if (resources()[i].name == name) return i;
  return resource_count;
}

std::size_t find_resource_by_path(std::string_view path) {
  for (std::size_t i = 0; i < resource_count; ++i)
    if (resources()[i].path == path) return i;
  return resource_count;
}

}  // namespace emulator

#include "restsync/paging/json_path.hpp"

namespace restsync {

const rapidjson::Value* find_path(const rapidjson::Value& root, std::span<const std::string> keys,
                                  bool* blocked) {
  const rapidjson::Value* cur = &root;
  if (blocked != nullptr) *blocked = false;
  for (const auto& key : keys) {
    if (!cur->IsObject()) {
      if (blocked != nullptr) *blocked = !cur->IsNull();
      return nullptr;
    }
    const auto it = cur->FindMember(rapidjson::Value(
        rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size()))));
    if (it == cur->MemberEnd()) return nullptr;
    cur = &it->value;
  }
  return cur;
}

}  // namespace restsync

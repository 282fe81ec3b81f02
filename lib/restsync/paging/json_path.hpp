// Walking a JSON document along a path of object keys (`a.b.c` split at the
// dots): the one walker behind page hints (total_path, next_path) and record
// fields (an incremental cursor_path).
#pragma once

#include <rapidjson/document.h>

#include <span>
#include <string>

namespace restsync {

// The value at keys from root (root itself for no keys); nullptr when a key
// is missing or a step is not an object. blocked, when given, tells the two
// apart where it matters: true when a step is a value other than an object
// or null (a path that runs through a number, say).
const rapidjson::Value* find_path(const rapidjson::Value& root, std::span<const std::string> keys,
                                  bool* blocked = nullptr);

}  // namespace restsync

#include "restsync/config/secrets.hpp"

#include <algorithm>

namespace restsync {

void secret_set::add(std::string value) {
  if (value.empty()) return;
  if (std::find(values_.begin(), values_.end(), value) != values_.end()) return;
  auto pos = std::find_if(values_.begin(), values_.end(),
                          [&](const std::string& v) { return v.size() < value.size(); });
  values_.insert(pos, std::move(value));
}

void secret_set::add_all(const secret_set& other) {
  for (const auto& v : other.values_) add(v);
}

bool secret_set::contains_secret(std::string_view text) const {
  return std::any_of(values_.begin(), values_.end(),
                     [&](const std::string& v) { return text.find(v) != std::string_view::npos; });
}

std::string secret_set::mask(std::string_view text) const {
  std::string out(text);
  for (const auto& v : values_) {
    if (v.size() < short_secret_length) {
      if (text == v) return "***";
      continue;
    }
    std::size_t pos = 0;
    while ((pos = out.find(v, pos)) != std::string::npos) {
      out.replace(pos, v.size(), "***");
      pos += 3;
    }
  }
  return out;
}

std::size_t secret_set::count_shorter_than(std::size_t length) const {
  return static_cast<std::size_t>(std::count_if(
      values_.begin(), values_.end(), [&](const std::string& v) { return v.size() < length; }));
}

}  // namespace restsync

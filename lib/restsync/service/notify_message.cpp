#include "restsync/service/notify_message.hpp"

namespace restsync {

std::string notify_message(std::initializer_list<notify_var> vars) {
  std::string out;
  for (const auto& [name, value] : vars) {
    if (!out.empty()) out.push_back('\n');
    out += name;
    out.push_back('=');
    for (char c : value) out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  }
  return out;
}

}  // namespace restsync

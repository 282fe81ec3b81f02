#include "restsync/config/conninfo.hpp"

namespace restsync {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::vector<std::string> uri_passwords(std::string_view uri) {
  std::vector<std::string> out;
  std::string_view rest = uri.substr(uri.find("://") + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      out.emplace_back(userinfo.substr(colon + 1));
    }
  }
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    while (!query.empty()) {
      const std::string_view pair = query.substr(0, query.find('&'));
      if (pair.starts_with("password=")) out.emplace_back(pair.substr(9));
      query.remove_prefix(pair.size() == query.size() ? pair.size() : pair.size() + 1);
    }
  }
  return out;
}

std::vector<std::string> keyword_passwords(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const std::size_t key_start = i;
    while (i < s.size() && s[i] != '=' && !is_space(s[i])) ++i;
    const std::string_view key = s.substr(key_start, i - key_start);
    while (i < s.size() && is_space(s[i])) ++i;
    if (i >= s.size() || s[i] != '=') break;
    ++i;
    while (i < s.size() && is_space(s[i])) ++i;
    std::size_t value_start = i;
    if (i < s.size() && s[i] == '\'') {
      value_start = ++i;
      while (i < s.size() && s[i] != '\'') i += s[i] == '\\' ? 2 : 1;
      if (i > s.size()) i = s.size();
      if (key == "password") out.emplace_back(s.substr(value_start, i - value_start));
      ++i;
    } else {
      while (i < s.size() && !is_space(s[i])) i += s[i] == '\\' ? 2 : 1;
      if (i > s.size()) i = s.size();
      if (key == "password") out.emplace_back(s.substr(value_start, i - value_start));
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> conninfo_passwords(std::string_view conninfo) {
  if (conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://")) {
    return uri_passwords(conninfo);
  }
  return keyword_passwords(conninfo);
}

}  // namespace restsync

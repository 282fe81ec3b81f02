#include "restsync/http/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace restsync {

namespace {

std::uint16_t default_port(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// IPv6 literals are bracketed in authorities.
std::string authority_host(const std::string& host) {
  if (host.find(':') == std::string::npos) return host;
  std::string h;
  h.reserve(host.size() + 2);
  h.push_back('[');
  h.append(host);
  h.push_back(']');
  return h;
}

}  // namespace

std::string url::origin() const {
  std::string out = scheme;
  out.append("://").append(authority_host(host)).push_back(':');
  out.append(std::to_string(port));
  return out;
}

std::string url::host_header() const {
  std::string h = authority_host(host);
  if (port != default_port(scheme)) h.append(":").append(std::to_string(port));
  return h;
}

url parse_url(std::string_view text) {
  url u;
  auto sep = text.find("://");
  if (sep == std::string_view::npos)
    throw std::invalid_argument("not an absolute URL (expected http:// or https://)");
  u.scheme = std::string(text.substr(0, sep));
  for (auto& c : u.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (u.scheme != "http" && u.scheme != "https")
    throw std::invalid_argument("scheme '" + u.scheme + "' is not http or https");
  auto rest = text.substr(sep + 3);
  auto slash = rest.find_first_of("/?#");
  auto authority = rest.substr(0, slash);
  auto tail = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos)
    throw std::invalid_argument("credentials in the URL are not accepted; use client.auth");
  std::string_view host = authority, port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("unclosed '[' in host");
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw std::invalid_argument("junk after ']' in host");
      port_text = after.substr(1);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  if (host.empty()) throw std::invalid_argument("no host in URL");
  u.host = std::string(host);
  u.port = default_port(u.scheme);
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || value == 0 ||
        value > 65535)
      throw std::invalid_argument("bad port '" + std::string(port_text) + "'");
    u.port = static_cast<std::uint16_t>(value);
  }
  auto hash = tail.find('#');
  if (hash != std::string_view::npos) tail = tail.substr(0, hash);
  u.target = tail.empty() || tail.front() != '/' ? "/" + std::string(tail) : std::string(tail);
  return u;
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string append_query(std::string_view target, const query_params& params) {
  std::string out(target);
  char sep = out.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    out.push_back(sep);
    out += percent_encode(k);
    out.push_back('=');
    out += percent_encode(v);
    sep = '&';
  }
  return out;
}

std::string redact_query(std::string_view target, const std::vector<std::string>& names) {
  auto q = target.find('?');
  if (q == std::string_view::npos || names.empty()) return std::string(target);
  std::string out(target.substr(0, q + 1));
  std::string_view rest = target.substr(q + 1);
  for (bool more = true, first = true; more; first = false) {
    auto amp = rest.find('&');
    more = amp != std::string_view::npos;
    auto pair = rest.substr(0, amp);
    rest = more ? rest.substr(amp + 1) : std::string_view{};
    if (!first) out += '&';
    auto eq = pair.find('=');
    auto name = pair.substr(0, eq);
    bool secret = std::any_of(names.begin(), names.end(),
                              [&](const std::string& n) { return percent_encode(n) == name; });
    if (secret && eq != std::string_view::npos) {
      out.append(name);
      out += "=***";
    } else {
      out.append(pair);
    }
  }
  return out;
}

std::string join_target(std::string_view base_path, std::string_view path,
                        const query_params& params) {
  std::string out(base_path);
  if (auto q = out.find('?'); q != std::string::npos) out.resize(q);
  while (!out.empty() && out.back() == '/') out.pop_back();
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  out += "/";
  out += path;
  return append_query(out, params);
}

}  // namespace restsync

namespace restsync {

std::optional<std::string> find_link(std::string_view header, std::string_view rel) {
  size_t pos = 0;
  while (pos < header.size()) {
    auto open = header.find('<', pos);
    if (open == std::string_view::npos) return std::nullopt;
    auto close = header.find('>', open);
    if (close == std::string_view::npos) return std::nullopt;
    auto target = header.substr(open + 1, close - open - 1);
    // Parameters run to the next link, which starts with '<' after a comma.
    auto next = header.find('<', close);
    auto params = header.substr(
        close + 1, (next == std::string_view::npos ? header.size() : next) - close - 1);
    auto r = params.find("rel=");
    if (r != std::string_view::npos) {
      auto value = params.substr(r + 4);
      bool quoted = !value.empty() && value.front() == '"';
      if (quoted) value.remove_prefix(1);
      auto end = value.find_first_of(quoted ? "\"" : ";, ");
      value = value.substr(0, end);
      // rel may list several space-separated relation types.
      size_t start = 0;
      while (start <= value.size()) {
        auto sp = value.find(' ', start);
        auto token =
            value.substr(start, sp == std::string_view::npos ? value.size() - start : sp - start);
        if (token.size() == rel.size() &&
            std::equal(token.begin(), token.end(), rel.begin(), [](char a, char b) {
              return std::tolower(static_cast<unsigned char>(a)) ==
                     std::tolower(static_cast<unsigned char>(b));
            }))
          return std::string(target);
        if (sp == std::string_view::npos) break;
        start = sp + 1;
      }
    }
    if (next == std::string_view::npos) return std::nullopt;
    pos = next;
  }
  return std::nullopt;
}

}  // namespace restsync

// Helpers for the emulator's integration tests: JSON handling, a pager that
// reads a resource the way the API page says a client must, and a raw
// keep-alive HTTP/1.1 connection for what the one-shot client cannot show.
#pragma once

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

namespace emu_test {

inline const std::map<std::string, std::string> paths = {
    {"accounts", "/v1/accounts"},
    {"accounts_feeds", "/v1/accounts/current/feeds"},
    {"users", "/v1/accounts/current/users"},
    {"smartcode", "/v1/accounts/current/smartcode"},
    {"campaigns", "/v1/accounts/current/campaigns"},
    {"custom_widgets", "/v1/accounts/current/changesets"},
    {"thresholds", "/v1/accounts/current/thresholds"},
    {"integrations", "/v1/accounts/current/integrations"},
    {"labels", "/v1/accounts/current/labels"},
};

inline const std::vector<std::string> list_resources = {"accounts",  "accounts_feeds", "users",
                                                        "campaigns", "custom_widgets", "labels"};
inline const std::vector<std::string> singletons = {"smartcode", "thresholds", "integrations"};

// Numbers stay text, so values beyond int64 compare digit for digit.
constexpr unsigned exact = rapidjson::kParseNumbersAsStringsFlag;

template <unsigned flags = rapidjson::kParseDefaultFlags>
rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse<flags>(text.data(), text.size());
  if (d.HasParseError()) throw std::runtime_error("invalid JSON: " + text.substr(0, 300));
  return d;
}

inline std::string dump(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

inline std::vector<std::string> truth_records(const rs_test::emulator& em, const std::string& r) {
  auto d = parse<exact>(em.truth(r));
  REQUIRE(d.IsArray());
  std::vector<std::string> out;
  for (auto& v : d.GetArray()) out.push_back(dump(v));
  return out;
}

struct page {
  int status = 0;
  std::vector<std::string> records;
  bool has_data = false;  // `_data` was there
  bool wrapped = false;   // `_data` was a partialCollection wrapper
  bool single = false;    // `_data` was one object
  long long total = -1;   // wrapper's totalCount
  std::string body;
};

// Reads one page the way the API page describes: `_data` array, wrapper,
// single object, or no `_data` at all for an empty page.
inline page read_page(const rs_test::http_response& res) {
  page p;
  p.status = res.status;
  p.body = res.body;
  auto d = parse<exact>(res.body);
  REQUIRE(d.IsObject());
  if (d.HasMember("_errors")) {
    REQUIRE(d["_errors"].IsArray());
    REQUIRE_MESSAGE(d["_errors"].Empty(), res.body);
  }
  if (!d.HasMember("_data")) return p;
  p.has_data = true;
  auto& data = d["_data"];
  const rapidjson::Value* items = &data;
  if (data.IsObject() && data.HasMember("partialCollection")) {
    p.wrapped = true;
    items = &data["partialCollection"];
    p.total = std::stoll(data["totalCount"].GetString());
  } else if (data.IsObject()) {
    p.single = true;
    p.records.push_back(dump(data));
    return p;
  }
  REQUIRE(items->IsArray());
  for (auto& v : items->GetArray()) p.records.push_back(dump(v));
  return p;
}

inline std::string paged(const std::string& path, long long limit, long long offset) {
  return path + "?limit=" + std::to_string(limit) + "&offset=" + std::to_string(offset);
}

struct scan_result {
  std::vector<std::string> records;
  std::vector<std::size_t> page_sizes;
  std::vector<page> pages;
};

// Pages until an empty page (or a single object), advancing by what arrived.
inline scan_result scan(const rs_test::emulator& em, const std::string& resource, long long limit) {
  scan_result out;
  long long offset = 0;
  for (int guard = 0; guard < 100000; ++guard) {
    auto res = em.get(paged(paths.at(resource), limit, offset));
    REQUIRE_MESSAGE(res.status == 200, res.body);
    auto p = read_page(res);
    out.page_sizes.push_back(p.records.size());
    out.records.insert(out.records.end(), p.records.begin(), p.records.end());
    bool last = p.records.empty() || p.single;
    offset += static_cast<long long>(p.records.size());
    out.pages.push_back(std::move(p));
    if (last) break;
  }
  return out;
}

// A plain HTTP/1.1 connection that stays open across requests.
class raw_connection {
 public:
  explicit raw_connection(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect failed");
  }
  ~raw_connection() { ::close(fd_); }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  void send(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      auto n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      sent += static_cast<std::size_t>(n);
    }
  }

  rs_test::http_response get(const std::string& target, const std::string& extra_headers = {}) {
    send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n");
    return read_response();
  }

  // The status line and headers of the next response.
  std::string read_head() {
    std::size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) fill();
    auto head = buf_.substr(0, head_end);
    buf_.erase(0, head_end + 4);
    return head;
  }

  // Reads one response framed by Content-Length; throws if the peer closes first.
  rs_test::http_response read_response() {
    rs_test::http_response res;
    auto head = read_head();
    res.status = std::stoi(head.substr(9, 3));
    std::size_t pos = head.find("\r\n");
    while (pos != std::string::npos && pos < head.size()) {
      auto next = head.find("\r\n", pos + 2);
      auto line =
          head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        res.headers[name] = value;
      }
      pos = next;
    }
    auto length = std::stoul(res.headers.at("content-length"));
    while (buf_.size() < length) fill();
    res.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return res;
  }

  // True when the peer has closed the connection (reads end of file).
  bool peer_closed() {
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  void fill() {
    char chunk[65536];
    auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0)
      throw std::runtime_error("connection closed after " + std::to_string(buf_.size()) + " bytes");
    buf_.append(chunk, static_cast<std::size_t>(n));
  }
  int fd_ = -1;
  std::string buf_;
};

inline rs_test::http_response post(const rs_test::emulator& em, const std::string& target,
                                   const std::string& body) {
  return rs_test::http_request(em.ep(), "POST", target, {{"content-type", "application/json"}},
                               body);
}

}  // namespace emu_test

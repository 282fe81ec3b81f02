// sd_notify: restsyncd run talks to a real AF_UNIX datagram socket named by
// NOTIFY_SOCKET, as systemd's would be: READY=1 once the configuration is
// valid and PostgreSQL answers, STATUS= lines, WATCHDOG=1 from the event
// loop when WATCHDOG_USEC is set, RELOADING=1 on SIGHUP, STOPPING=1 on SIGTERM.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "daemon_harness.hpp"

using namespace rs_test;

namespace {

class notify_socket {
 public:
  notify_socket() : path_(dir_.path() / "notify") {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path_.string().size() < sizeof addr.sun_path);
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~notify_socket() { ::close(fd_); }

  const std::filesystem::path& path() const { return path_; }

  // The next datagram, or nullopt after the timeout.
  std::optional<std::string> receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    std::string m(buf, static_cast<size_t>(n));
    all_.push_back(m);
    return m;
  }

  // Receives until a datagram contains part; every datagram is kept.
  std::optional<std::string> wait_for(const std::string& part, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      auto m = receive(left);
      if (m && m->find(part) != std::string::npos) return m;
    }
  }

  const std::vector<std::string>& all() const { return all_; }
  std::size_t count(const std::string& part) const {
    std::size_t n = 0;
    for (const auto& m : all_) n += m.find(part) != std::string::npos;
    return n;
  }

 private:
  temp_dir dir_;
  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<std::string> all_;
};

std::string joined(const std::vector<std::string>& all) {
  std::string out;
  for (const auto& m : all) out += "[" + m + "]\n";
  return out;
}

}  // namespace

TEST_CASE("READY, STATUS, WATCHDOG, RELOADING and STOPPING reach the notify socket") {
  emulator emu;
  scratch_database db;
  notify_socket sock;
  daemon_options d;
  d.only = {"users", "labels"};
  daemon_process daemon(daemon_yaml({}, d), emu, db,
                        {{"NOTIFY_SOCKET", sock.path().string()}, {"WATCHDOG_USEC", "600000"}});
  INFO(daemon.log());

  auto ready = sock.wait_for("READY=1", 60s);
  INFO(joined(sock.all()));
  REQUIRE(ready);
  CHECK(ready->find("\nSTATUS=2 resources: ") != std::string::npos);
  // Before READY=1 the status said what it was waiting for.
  CHECK(sock.count("STATUS=connecting to PostgreSQL") == 1);
  // A STATUS= after each run, with the counts.
  REQUIRE(sock.wait_for("STATUS=2 resources: 2 ok", 30s));

  // Watchdog keep-alives every 300 ms (half of WATCHDOG_USEC).
  const auto before = sock.count("WATCHDOG=1");
  auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < 2s) sock.receive(100ms);
  const auto pings = sock.count("WATCHDOG=1") - before;
  CAPTURE(pings);
  CHECK(pings >= 4);
  CHECK(pings <= 9);

  daemon.signal(SIGHUP);
  auto reloading = sock.wait_for("RELOADING=1", 10s);
  REQUIRE(reloading);
  REQUIRE(sock.wait_for("READY=1", 10s));

  daemon.signal(SIGTERM);
  auto stopping = sock.wait_for("STOPPING=1", 10s);
  REQUIRE(stopping);
  CHECK(daemon.proc().wait(10s) == 0);
  CHECK(sock.count("READY=1") == 2);
}

TEST_CASE("no READY=1 while PostgreSQL does not answer; the watchdog is still fed") {
  emulator emu;
  scratch_database db;
  notify_socket sock;
  daemon_options d;
  d.shutdown_timeout = "1s";
  std::string yaml = daemon_yaml({}, d) + "destination: {connection: \"host=127.0.0.1 port=1\"}\n";
  daemon_process daemon(yaml, emu, db,
                        {{"NOTIFY_SOCKET", sock.path().string()}, {"WATCHDOG_USEC", "400000"}});
  INFO(daemon.log());
  auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < 3s) sock.receive(100ms);
  INFO(joined(sock.all()));
  CHECK(sock.count("READY=1") == 0);
  CHECK(sock.count("STATUS=connecting to PostgreSQL") == 1);
  CHECK(sock.count("WATCHDOG=1") >= 8);
  // Nothing was requested from the API before the database was there.
  CHECK(emu.stats().find("\"requests_total\":0") != std::string::npos);
  daemon.signal(SIGTERM);
  REQUIRE(sock.wait_for("STOPPING=1", 5s));
  CHECK(daemon.proc().wait(10s) == 0);
}

// systemd's notification socket (sd_notify(3)): readiness, a one-line status,
// reloading, stopping and the watchdog keep-alive. Outside systemd (no
// NOTIFY_SOCKET) every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace restsyncd {

class notifier {
 public:
  void ready(std::string_view status);
  void status(std::string_view status);
  void reloading();
  void stopping(std::string_view status);
  void watchdog();

  // How often systemd expects WATCHDOG=1 (WatchdogSec=), if it does.
  static std::optional<std::chrono::microseconds> watchdog_timeout();

 private:
  void send(const std::string& message);
};

}  // namespace restsyncd

#include "notifier.hpp"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <string>

#include "restsync/service/notify_message.hpp"

namespace restsyncd {

using restsync::notify_message;

void notifier::send(const std::string& message) {
  // A lost notification is not worth failing over: systemd notices a
  // missing READY=1 or WATCHDOG=1 by itself.
  (void)sd_notify(0, message.c_str());
}

void notifier::ready(std::string_view status) {
  send(notify_message({{"READY", "1"}, {"STATUS", status}}));
}

void notifier::status(std::string_view status) { send(notify_message({{"STATUS", status}})); }

void notifier::reloading() {
  send(notify_message({{"RELOADING", "1"}, {"STATUS", "reloading the configuration"}}));
}

void notifier::stopping(std::string_view status) {
  send(notify_message({{"STOPPING", "1"}, {"STATUS", status}}));
}

void notifier::watchdog() { send(notify_message({{"WATCHDOG", "1"}})); }

std::optional<std::chrono::microseconds> notifier::watchdog_timeout() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
    return std::chrono::microseconds(static_cast<std::int64_t>(usec));
  return std::nullopt;
}

}  // namespace restsyncd

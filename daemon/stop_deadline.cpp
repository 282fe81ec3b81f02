#include "stop_deadline.hpp"

#include <cstdlib>

#include "restsync/config/duration.hpp"

namespace restsyncd {

stop_deadline::stop_deadline(std::chrono::milliseconds bound, restsync::logger& log)
    : at_(std::chrono::steady_clock::now() + bound), bound_(bound), log_(log) {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    if (cv_.wait_until(lock, at_, [this] { return done_; })) return;
    log_.error("stop_timeout",
               {{"shutdown_timeout", restsync::format_duration(bound_)},
                {"detail",
                 "pages still waiting for the database were not committed; PostgreSQL rolls "
                 "back what did not commit, and the next start marks the runs interrupted"}});
    // The stop was asked for: a non-zero status would read as a crash and,
    // for a signal sent outside `systemctl stop`, trigger Restart=on-failure.
    std::_Exit(0);
  });
}

stop_deadline::~stop_deadline() { finish(); }

void stop_deadline::finish() {
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::chrono::milliseconds stop_deadline::remaining() const {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      at_ - std::chrono::steady_clock::now()));
}

}  // namespace restsyncd

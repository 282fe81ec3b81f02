// `restsyncd run`: the long-running daemon that systemd starts.
#pragma once

#include <optional>
#include <string>

#include "restsync/config/config.hpp"
#include "restsync/observe/log.hpp"

namespace restsyncd {

struct run_options {
  std::string config_file;                       // read again on SIGHUP
  std::optional<restsync::log_level> cli_level;  // --log-level: wins over log.level
};

// Runs until SIGTERM or SIGINT; the exit status (0 after a requested stop).
int run_daemon(const run_options& opts, restsync::config cfg, restsync::logger& log);

}  // namespace restsyncd

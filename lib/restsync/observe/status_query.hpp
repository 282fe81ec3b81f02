// Reads what `restsyncd status` shows from PostgreSQL: _rs_state, the last
// _rs_runs row and the live row count of every resource. A short-lived
// connection of its own: the command runs beside the daemon, not inside it.
#pragma once

#include <stdexcept>
#include <vector>

#include "restsync/config/config.hpp"
#include "restsync/observe/status_report.hpp"

namespace restsync::service {

// Every configured resource in configuration order, then those the database
// knows that the configuration no longer lists. Throws std::runtime_error
// naming the problem when the database cannot be read.
std::vector<resource_status> query_status(const config& cfg);

}  // namespace restsync::service

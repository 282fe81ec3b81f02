// The human-readable plan of a loaded configuration, as `restsyncd
// check-config` prints it: what will be requested, how and where it goes.
#pragma once

#include <string>

#include "restsync/config/config.hpp"

namespace restsync {

// Every resource with its first request's full URL, paging, limits, error
// handling and schedule, plus the client and the destination. Secrets are
// shown as `***`.
std::string describe_plan(const config& cfg);

}  // namespace restsync

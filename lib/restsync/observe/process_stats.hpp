// The process's own resident memory and open file descriptors, from /proc.
#pragma once

#include "restsync/observe/metrics_text.hpp"

namespace restsync::service {

process_stats read_process_stats();

}  // namespace restsync::service

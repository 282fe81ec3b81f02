// What one sync run of a resource did, as the engine reports it and the run
// ledger adds it up.
#pragma once

#include <string>

#include "restsync/observe/run_counters.hpp"

namespace restsync {

struct run_outcome {
  std::string resource;
  bool ok = false;
  std::string error;  // the first failure, with resource, path and status
  bool complete_scan = false;
  run_counters counts;
  // Why deletions were not marked after a complete scan that could have.
  std::string deletions_skipped;
  std::string cursor;  // the incremental cursor after the run; empty: none
};

}  // namespace restsync

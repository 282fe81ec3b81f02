#include "restsync/observe/process_stats.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace restsync::service {

process_stats read_process_stats() {
  process_stats p;
  // statm: total program size, then resident pages.
  std::ifstream statm("/proc/self/statm");
  std::int64_t size = 0, resident = 0;
  if (statm >> size >> resident) p.resident_bytes = resident * sysconf(_SC_PAGESIZE);
  std::error_code ec;
  std::int64_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++fds;
  // The directory listing holds a descriptor of its own while it is read.
  if (!ec) p.open_fds = fds - 1;
  return p;
}

}  // namespace restsync::service

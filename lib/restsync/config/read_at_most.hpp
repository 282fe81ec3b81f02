// Reading a whole stream into memory, up to a size: a configuration file and
// the files it refers to, none of which may fill memory whatever they hold.
#pragma once

#include <cstddef>
#include <istream>
#include <optional>
#include <string>

namespace restsync {

// Everything in reads, or nullopt as soon as that is more than limit bytes.
// Read in pieces rather than by a size, which a pipe, a device such as
// /dev/zero or a file still being written does not tell.
std::optional<std::string> read_at_most(std::istream& in, std::size_t limit);

}  // namespace restsync

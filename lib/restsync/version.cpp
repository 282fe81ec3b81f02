#include "restsync/version.hpp"

namespace restsync {
std::string_view version() { return RESTSYNC_VERSION; }
}  // namespace restsync

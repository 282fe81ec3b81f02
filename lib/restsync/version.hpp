// The restsync version, as set by the top-level CMake project().
#pragma once

#include <string_view>

namespace restsync {
std::string_view version();
}

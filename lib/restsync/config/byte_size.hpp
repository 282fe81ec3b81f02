// Sizes in bytes as the configuration writes them: `67108864`, `64MiB`,
// `512 KiB`, `10MB`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace restsync {

// The number of bytes the text denotes, or nullopt. Units: B, KB/MB/GB
// (powers of 1000) and KiB/MiB/GiB (powers of 1024); a bare integer is bytes.
std::optional<std::int64_t> parse_byte_size(std::string_view text);

// `64 MiB` when the size is a whole number of a binary unit, else `N bytes`.
std::string format_byte_size(std::int64_t bytes);

}  // namespace restsync

#include "restsync/config/error.hpp"

#include <fmt/format.h>

namespace restsync {

config_error::config_error(std::vector<std::string> messages)
    : std::runtime_error(fmt::format("{}", fmt::join(messages, "\n"))),
      messages_(std::move(messages)) {}

}  // namespace restsync

// sd_notify(3) messages: newline-separated `NAME=value` assignments. A value
// cannot hold a newline, so one that does has it replaced by a space (a
// multi-line STATUS= would otherwise be cut or misread as more variables).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace restsync {

using notify_var = std::pair<std::string_view, std::string_view>;

std::string notify_message(std::initializer_list<notify_var> vars);

}  // namespace restsync

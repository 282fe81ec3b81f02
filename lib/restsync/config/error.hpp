// A configuration that was refused: every problem found, each as
// `file:line:column: what is wrong and what would be right`.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace restsync {

// sysexits.h EX_CONFIG: the exit status for a refused configuration.
inline constexpr int exit_config_error = 78;

class config_error : public std::runtime_error {
 public:
  // what() is the messages, one per line.
  explicit config_error(std::vector<std::string> messages);
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  std::vector<std::string> messages_;
};

}  // namespace restsync

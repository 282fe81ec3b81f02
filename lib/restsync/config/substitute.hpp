// References to values kept outside the configuration file: `${env:NAME}`,
// `${env:NAME:-default}`, `${file:PATH}` and `${credential:NAME}`, anywhere
// inside a string; `$${` stands for a literal `${`.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace restsync {

struct substitution {
  std::string value;
  // The pieces that came from files and credentials: secrets by origin.
  std::vector<std::string> secret_parts;
  // At least one reference was resolved, so value is not what the file says.
  bool resolved_reference = false;
};

// Its message names the reference (`${env:API_KEY}`), never a value.
class substitution_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Resolves every reference in text. `${file:…}` paths that are relative are
// taken from base_dir (the configuration file's directory); file contents and
// credentials lose their trailing newlines.
substitution substitute(std::string_view text, const std::filesystem::path& base_dir);

}  // namespace restsync

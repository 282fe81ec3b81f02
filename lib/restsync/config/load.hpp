// Reading a configuration file into a config: YAML parsing, ${…}
// substitution, resource_defaults merging, defaults and validation.
#pragma once

#include <filesystem>
#include <string>

#include "restsync/config/config.hpp"
#include "restsync/config/error.hpp"

namespace restsync {

// Throws config_error listing every problem found (at least the first one
// precisely), each as `file:line:column: …`. No message contains a secret.
config load_config(const std::filesystem::path& file);

// The same for text in memory: display_name stands for the file in messages,
// and relative `${file:…}` paths are taken from base_dir (empty: the working
// directory).
config load_config_from_string(const std::string& yaml, const std::string& display_name,
                               const std::filesystem::path& base_dir = {});

}  // namespace restsync

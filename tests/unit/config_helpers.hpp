// What the configuration tests share: YAML written inline, loaded from a
// string, and the errors it gives. Header-only: each unit test is its own
// program.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "restsync/config/config.hpp"
#include "restsync/config/error.hpp"
#include "restsync/config/load.hpp"

namespace config_test {

// Test inputs start on the line after R"( so that line numbers read naturally.
inline std::string yaml(const char* text) {
  std::string s(text);
  if (!s.empty() && s.front() == '\n') s.erase(0, 1);
  return s;
}

inline restsync::config load(const std::string& text, const std::filesystem::path& base_dir = {}) {
  return restsync::load_config_from_string(text, "t.yaml", base_dir);
}

inline std::vector<std::string> errors_of(const std::string& text,
                                          const std::filesystem::path& base_dir = {}) {
  try {
    load(text, base_dir);
  } catch (const restsync::config_error& e) {
    return e.messages();
  }
  FAIL("the configuration was accepted");
  return {};
}

inline std::string first_error(const std::string& text,
                               const std::filesystem::path& base_dir = {}) {
  auto errors = errors_of(text, base_dir);
  REQUIRE_FALSE(errors.empty());
  return errors.front();
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace config_test

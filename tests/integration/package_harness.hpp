// Shared by the tests of what restsync installs: commands run to their end,
// the build tree's `cmake --install` and `cpack -G DEB` results.
#pragma once

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

namespace rs_test {

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct command_result {
  int code = -1;
  std::string out, err;
};

// Runs argv to its end (two minutes at most), collecting what it prints.
inline command_result run_command(const std::vector<std::string>& argv,
                                  const std::map<std::string, std::string>& env = {}) {
  process p(argv, env);
  command_result r;
  r.out = p.stdout_rest(120s);
  r.code = p.wait(120s).value_or(-1);
  r.err = p.stderr_text();
  return r;
}

// The build tree the binaries are in (build/bin's parent).
inline std::filesystem::path build_dir() {
  return std::filesystem::absolute(bin_dir()).parent_path();
}

// `cmake --install` of the build tree with prefix /usr into a fresh DESTDIR.
inline void install_into(const std::filesystem::path& root, bool strip = false) {
  std::vector<std::string> argv = {"/usr/bin/cmake", "--install", build_dir().string(), "--prefix",
                                   "/usr"};
  if (strip) argv.push_back("--strip");
  auto r = run_command(argv, {{"DESTDIR", root.string()}});
  INFO(r.out, r.err);
  REQUIRE(r.code == 0);
}

// The staged install, made once per test process.
inline const std::filesystem::path& staged_install() {
  static temp_dir stage;
  static const bool installed = (install_into(stage.path()), true);
  (void)installed;
  return stage.path();
}

// The .deb that `cpack -G DEB` makes of the build tree, made once per test
// process; empty when cpack or dpkg-deb is missing.
inline const std::filesystem::path& built_package() {
  static temp_dir out;
  static const std::filesystem::path deb = []() -> std::filesystem::path {
    if (!std::filesystem::exists("/usr/bin/cpack") || !std::filesystem::exists("/usr/bin/dpkg-deb"))
      return {};
    auto r = run_command({"/usr/bin/cpack", "-G", "DEB", "-B", out.path().string(), "--config",
                          (build_dir() / "CPackConfig.cmake").string()});
    INFO(r.out, r.err);
    REQUIRE(r.code == 0);
    for (const auto& e : std::filesystem::directory_iterator(out.path()))
      if (e.path().extension() == ".deb") return e.path();
    FAIL("cpack made no .deb in " << out.path().string());
    return {};
  }();
  return deb;
}

}  // namespace rs_test

// `cmake --install` and `cpack -G DEB`: the binary, the unit and the
// configuration under /etc land where the unit expects them, the installed
// configuration reads the API key from the systemd credential, and the
// package declares its dependencies and keeps /etc files as conffiles.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "support.hpp"

using namespace rs_test;

namespace {

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct run_result {
  int code = -1;
  std::string out, err;
};

run_result run(const std::vector<std::string>& argv,
               const std::map<std::string, std::string>& env = {}) {
  process p(argv, env);
  run_result r;
  r.out = p.stdout_rest(120s);
  r.code = p.wait(120s).value_or(-1);
  r.err = p.stderr_text();
  return r;
}

std::filesystem::path build_dir() { return std::filesystem::absolute(bin_dir()).parent_path(); }

}  // namespace

TEST_CASE("cmake --install puts the binary, the unit and the configuration in place") {
  temp_dir stage;
  auto r = run({"/usr/bin/cmake", "--install", build_dir().string(), "--prefix", "/usr"},
               {{"DESTDIR", stage.path().string()}});
  INFO(r.out, r.err);
  REQUIRE(r.code == 0);
  const auto root = stage.path();
  CHECK(std::filesystem::exists(root / "usr/bin/restsyncd"));
  CHECK(read(root / "usr/lib/systemd/system/restsyncd.service") ==
        read(source_dir() / "systemd/restsyncd.service"));
  CHECK(std::filesystem::exists(root / "usr/share/doc/restsync/operations.md"));
  const std::string cfg = read(root / "etc/restsync/restsync.yaml");
  CHECK(cfg.find("api_key: ${credential:api_key}") != std::string::npos);
  CHECK(cfg.find("ANALYTICS_API_KEY") == std::string::npos);
  CHECK(std::filesystem::exists(root / "etc/restsync/restsync.env"));

  // The installed configuration is valid with the key from the credential
  // directory, as systemd's LoadCredential= provides it.
  temp_dir creds;
  std::ofstream(creds.path() / "api_key") << "installed-key-42\n";
  auto check = run({(root / "usr/bin/restsyncd").string(), "check-config", "--config",
                    (root / "etc/restsync/restsync.yaml").string()},
                   {{"CREDENTIALS_DIRECTORY", creds.path().string()}});
  INFO(check.out, check.err);
  CHECK(check.code == 0);
  CHECK(check.out.find("api_key in header `api_key`: ***") != std::string::npos);
  CHECK(check.out.find("installed-key-42") == std::string::npos);

  // A second install keeps the configuration an operator edited.
  std::ofstream(root / "etc/restsync/restsync.yaml", std::ios::app) << "# edited\n";
  auto again = run({"/usr/bin/cmake", "--install", build_dir().string(), "--prefix", "/usr"},
                   {{"DESTDIR", stage.path().string()}});
  REQUIRE(again.code == 0);
  CHECK(read(root / "etc/restsync/restsync.yaml").find("# edited") != std::string::npos);
}

TEST_CASE("cpack -G DEB builds a package with the files, the dependencies and the conffiles") {
  if (!std::filesystem::exists("/usr/bin/cpack") || !std::filesystem::exists("/usr/bin/dpkg-deb")) {
    MESSAGE("cpack or dpkg-deb missing; skipped");
    return;
  }
  temp_dir out;
  auto r = run({"/usr/bin/cpack", "-G", "DEB", "-B", out.path().string(), "--config",
                (build_dir() / "CPackConfig.cmake").string()});
  INFO(r.out, r.err);
  REQUIRE(r.code == 0);
  std::filesystem::path deb;
  for (const auto& e : std::filesystem::directory_iterator(out.path()))
    if (e.path().extension() == ".deb") deb = e.path();
  REQUIRE_FALSE(deb.empty());
  auto contents = run({"/usr/bin/dpkg-deb", "-c", deb.string()});
  for (const char* file : {"./usr/bin/restsyncd", "./usr/lib/systemd/system/restsyncd.service",
                           "./etc/restsync/restsync.yaml", "./etc/restsync/restsync.env",
                           "./usr/share/doc/restsync/operations.md"}) {
    INFO(file, contents.out);
    CHECK(contents.out.find(file) != std::string::npos);
  }
  auto depends = run({"/usr/bin/dpkg-deb", "-f", deb.string(), "Depends"});
  INFO(depends.out);
  for (const char* dep : {"libpqxx", "libssl3", "libsystemd0", "libyaml-cpp", "ca-certificates"})
    CHECK(depends.out.find(dep) != std::string::npos);
  temp_dir control;
  REQUIRE(
      run({"/usr/bin/dpkg-deb", "-e", deb.string(), (control.path() / "DEBIAN").string()}).code ==
      0);
  CHECK(read(control.path() / "DEBIAN/conffiles") ==
        "/etc/restsync/restsync.yaml\n/etc/restsync/restsync.env\n");
}

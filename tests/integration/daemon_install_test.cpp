// `cmake --install` and `cpack -G DEB`: the binary, the units, the man page
// and the configuration under /etc land where the units expect them, the
// installed configuration reads the API key from the systemd credential, and
// the package follows Debian's conventions: its dependencies, its conffiles,
// copyright and changelog, lintian's verdict, and maintainer scripts that
// leave the service to the operator.
#include <sys/stat.h>

#include <algorithm>
#include <regex>

#include "package_harness.hpp"

using namespace rs_test;

namespace {

// gzip -dc of a file.
std::string gunzip(const std::filesystem::path& p) {
  auto r = run_command({"/usr/bin/gzip", "-dc", p.string()});
  INFO(p.string(), r.err);
  REQUIRE(r.code == 0);
  return r.out;
}

// Compressed as Debian wants: gzip -9n, no file name and no time stamp in
// the header (RFC 1952: FLG bit 3 is FNAME, bytes 4-7 the MTIME).
void check_gzip_n(const std::filesystem::path& p) {
  const std::string bytes = read_text(p);
  INFO(p.string());
  REQUIRE(bytes.size() > 10);
  CHECK(static_cast<unsigned char>(bytes[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(bytes[1]) == 0x8b);
  CHECK((bytes[3] & 0x08) == 0);
  CHECK(bytes.substr(4, 4) == std::string(4, '\0'));
}

// The files the package ships and the install puts in place besides the
// configuration, with where they come from.
struct shipped_file {
  const char* installed;
  std::filesystem::path source;
};

std::vector<shipped_file> shipped_files() {
  const auto src = source_dir();
  return {
      {"usr/lib/systemd/system/restsyncd.service", src / "systemd/restsyncd.service"},
      {"usr/lib/systemd/system/restsyncd@.service", src / "systemd/restsyncd@.service"},
      {"usr/share/doc/restsync/operations.md", src / "docs/operations.md"},
      {"usr/share/doc/restsync/copyright", src / "daemon/debian/copyright"},
      {"usr/share/restsync/monitoring/restsync-alerts.yml", src / "monitoring/restsync-alerts.yml"},
      {"usr/share/restsync/monitoring/restsync-dashboard.json",
       src / "monitoring/restsync-dashboard.json"},
  };
}

}  // namespace

TEST_CASE(
    "cmake --install puts the binary, the units, the man page and the configuration in place") {
  temp_dir stage;
  install_into(stage.path());
  const auto root = stage.path();
  CHECK(std::filesystem::exists(root / "usr/bin/restsyncd"));
  for (const auto& f : shipped_files()) {
    INFO(f.installed);
    CHECK(read_text(root / f.installed) == read_text(f.source));
  }
  check_gzip_n(root / "usr/share/man/man8/restsyncd.8.gz");
  CHECK(gunzip(root / "usr/share/man/man8/restsyncd.8.gz") ==
        read_text(build_dir() / "daemon/restsyncd.8"));
  check_gzip_n(root / "usr/share/doc/restsync/changelog.gz");
  CHECK(gunzip(root / "usr/share/doc/restsync/changelog.gz") ==
        read_text(source_dir() / "daemon/debian/changelog"));
  const std::string cfg = read_text(root / "etc/restsync/restsync.yaml");
  CHECK(cfg.find("api_key: ${credential:api_key}") != std::string::npos);
  CHECK(cfg.find("ANALYTICS_API_KEY") == std::string::npos);
  CHECK(std::filesystem::exists(root / "etc/restsync/restsync.env"));

  // The installed configuration is valid with the key from the credential
  // directory, as systemd's LoadCredential= provides it.
  temp_dir creds;
  std::ofstream(creds.path() / "api_key") << "installed-key-42\n";
  auto check = run_command({(root / "usr/bin/restsyncd").string(), "check-config", "--config",
                            (root / "etc/restsync/restsync.yaml").string()},
                           {{"CREDENTIALS_DIRECTORY", creds.path().string()}});
  INFO(check.out, check.err);
  CHECK(check.code == 0);
  CHECK(check.out.find("api_key in header `api_key`: ***") != std::string::npos);
  CHECK(check.out.find("installed-key-42") == std::string::npos);

  // A second install keeps the configuration an operator edited.
  std::ofstream(root / "etc/restsync/restsync.yaml", std::ios::app) << "# edited\n";
  install_into(root);
  CHECK(read_text(root / "etc/restsync/restsync.yaml").find("# edited") != std::string::npos);
}

TEST_CASE("cpack -G DEB builds a package with the files, the control fields and the conffiles") {
  const auto deb = built_package();
  if (deb.empty()) {
    MESSAGE("cpack or dpkg-deb missing; skipped");
    return;
  }
  auto contents = run_command({"/usr/bin/dpkg-deb", "-c", deb.string()});
  std::vector<std::string> files = {
      "usr/bin/restsyncd", "etc/restsync/restsync.yaml", "etc/restsync/restsync.env",
      "usr/share/man/man8/restsyncd.8.gz", "usr/share/doc/restsync/changelog.gz"};
  for (const auto& f : shipped_files()) files.push_back(f.installed);
  for (const auto& file : files) {
    INFO(file, contents.out);
    CHECK(contents.out.find(" ./" + file + "\n") != std::string::npos);
  }
  auto field = [&](const char* name) {
    auto r = run_command({"/usr/bin/dpkg-deb", "-f", deb.string(), name});
    return r.out;
  };
  const std::string depends = field("Depends");
  INFO(depends);
  for (const char* dep : {"libpqxx", "libssl3", "libsystemd0", "libyaml-cpp", "ca-certificates"})
    CHECK(depends.find(dep) != std::string::npos);
  CHECK(field("Section") == "database\n");
  CHECK(field("Priority") == "optional\n");
  CHECK(std::stoi(field("Installed-Size")) > 0);
  // The long description: more than its first line.
  const std::string description = field("Description");
  CHECK(std::count(description.begin(), description.end(), '\n') > 3);

  temp_dir control;
  const auto dir = control.path() / "DEBIAN";
  REQUIRE(run_command({"/usr/bin/dpkg-deb", "-e", deb.string(), dir.string()}).code == 0);
  CHECK(read_text(dir / "conffiles") ==
        "/etc/restsync/restsync.yaml\n/etc/restsync/restsync.env\n");
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    INFO(script);
    CHECK(read_text(dir / script) == read_text(source_dir() / "daemon/debian" / script));
    struct stat st {};
    REQUIRE(::stat((dir / script).c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0755);
    // They tell systemd of the units and stop them on remove; enabling or
    // starting is the operator's (an upgrade's try-restart only restarts
    // what runs).
    std::istringstream lines(read_text(dir / script));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind('#', 0) == 0) continue;
      INFO(line);
      CHECK_FALSE(std::regex_search(line, std::regex(R"((^|[^-])\b(enable|start|restart)\b)")));
    }
  }
}

TEST_CASE("lintian finds no error and no warning in the package") {
  const auto deb = built_package();
  if (deb.empty() || !std::filesystem::exists("/usr/bin/lintian")) {
    MESSAGE("cpack or lintian missing (scripts/bootstrap installs them); skipped");
    return;
  }
  auto r = run_command({"/usr/bin/lintian", "--fail-on", "error,warning", deb.string()});
  INFO(r.out, r.err);
  CHECK(r.code == 0);
  CHECK_FALSE(std::regex_search(r.out, std::regex(R"((^|\n)[EW]: )")));
}

TEST_CASE("dpkg installs the package with nothing enabled, and a purge removes the enablement") {
  const auto deb = built_package();
  if (deb.empty() || !std::filesystem::exists("/usr/bin/dpkg")) {
    MESSAGE("cpack or dpkg missing; skipped");
    return;
  }
  // A scratch root with an empty dpkg database; the maintainer scripts run
  // outside it with DPKG_ROOT pointing at it (--force-script-chrootless), as
  // they must support.
  temp_dir scratch;
  const auto root = scratch.path();
  for (const char* dir :
       {"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc/systemd/system"})
    std::filesystem::create_directories(root / dir);
  std::ofstream(root / "var/lib/dpkg/status");
  std::ofstream(root / "var/lib/dpkg/available");
  auto dpkg = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {
        "/usr/bin/dpkg",    "--root=" + root.string(), "--force-script-chrootless",
        "--force-not-root", "--force-depends",         "--log=/dev/null"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_command(argv);
    INFO(r.out, r.err);
    REQUIRE(r.code == 0);
  };

  dpkg({"--install", deb.string()});
  CHECK(std::filesystem::exists(root / "usr/bin/restsyncd"));
  CHECK(std::filesystem::exists(root / "etc/restsync/restsync.yaml"));
  // Nothing enabled: no link under /etc/systemd/system.
  CHECK(std::filesystem::is_empty(root / "etc/systemd/system"));

  // What `systemctl enable restsyncd restsyncd@billing` makes, a link of
  // another unit, and a key the operator put in place.
  const auto wants = root / "etc/systemd/system/multi-user.target.wants";
  std::filesystem::create_directories(wants);
  std::filesystem::create_symlink("/lib/systemd/system/restsyncd.service",
                                  wants / "restsyncd.service");
  std::filesystem::create_symlink("/usr/lib/systemd/system/restsyncd@.service",
                                  wants / "restsyncd@billing.service");
  std::filesystem::create_symlink("/lib/systemd/system/postgresql.service",
                                  wants / "postgresql.service");
  std::ofstream(root / "etc/restsync/api_key") << "operator's key\n";

  dpkg({"--purge", "restsync"});
  CHECK_FALSE(std::filesystem::exists(root / "usr/bin/restsyncd"));
  CHECK_FALSE(std::filesystem::exists(root / "etc/restsync/restsync.yaml"));
  CHECK_FALSE(std::filesystem::is_symlink(wants / "restsyncd.service"));
  CHECK_FALSE(std::filesystem::is_symlink(wants / "restsyncd@billing.service"));
  CHECK(std::filesystem::is_symlink(wants / "postgresql.service"));
  CHECK(read_text(root / "etc/restsync/api_key") == "operator's key\n");
}

// systemd/restsyncd.service: the directives the daemon relies on, and the
// hardening that `systemd-analyze security` rates (target: 2.0 or lower).
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "support.hpp"

using namespace rs_test;

namespace {

std::string unit_text() {
  std::ifstream in(source_dir() / "systemd" / "restsyncd.service");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

}  // namespace

TEST_CASE("the unit is Type=notify with a watchdog, reload, restarts and the credential") {
  const std::string u = unit_text();
  for (const char* line :
       {"Type=notify", "ExecStart=/usr/bin/restsyncd run --config /etc/restsync/restsync.yaml",
        "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "RestartPreventExitStatus=78",
        "WatchdogSec=60s", "LoadCredential=api_key:/etc/restsync/api_key", "DynamicUser=yes",
        "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
        "PrivateDevices=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service", "CapabilityBoundingSet="}) {
    INFO(line);
    CHECK(has_line(u, line));
  }
  // restsyncd must finish its own bounded stop (30s by default) first.
  CHECK(has_line(u, "TimeoutStopSec=45s"));
}

TEST_CASE("systemd-analyze security rates the unit 2.0 or lower") {
  const std::string tool = "/usr/bin/systemd-analyze";
  if (!std::filesystem::exists(tool)) {
    MESSAGE("systemd-analyze is not installed (Debian package systemd); skipped");
    return;
  }
  temp_dir dir;
  auto unit = dir.path() / "restsyncd.service";
  std::filesystem::copy_file(source_dir() / "systemd" / "restsyncd.service", unit);
  process p({tool, "security", "--offline=true", "--no-pager", unit.string()});
  std::string out = p.stdout_rest(60s);
  auto code = p.wait(60s);
  INFO(out, p.stderr_text());
  REQUIRE(code.has_value());
  std::smatch m;
  REQUIRE(std::regex_search(
      out, m, std::regex(R"(Overall exposure level for restsyncd\.service: ([0-9.]+))")));
  const double level = std::stod(m[1].str());
  MESSAGE("exposure level ", level);
  CHECK(level <= 2.0);
}

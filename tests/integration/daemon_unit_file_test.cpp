// systemd/restsyncd.service and the template systemd/restsyncd@.service: the
// directives the daemon relies on, the same hardening in both, what
// `systemd-analyze verify` says of them, and the hardening that
// `systemd-analyze security` rates (target: 2.0 or lower).
#include <regex>

#include "package_harness.hpp"

using namespace rs_test;

namespace {

const char* const single_unit = "restsyncd.service";
const char* const template_unit = "restsyncd@.service";

std::string unit_text(const char* name) {
  const auto path = source_dir() / "systemd" / name;
  REQUIRE(std::filesystem::exists(path));
  return read_text(path);
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

// The unit's sections and directives, in order, without comments and blank
// lines.
std::vector<std::string> directives(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty() && l[0] != '#') out.push_back(l);
  return out;
}

// The directives both units share: the hardening and everything else that
// is not about which files an instance reads.
void check_directives(const std::string& u, const std::string& config, const std::string& key,
                      const std::string& env) {
  for (const std::string& line :
       {std::string("Type=notify"), "ExecStart=/usr/bin/restsyncd run --config " + config,
        std::string("ExecReload=/bin/kill -HUP $MAINPID"), std::string("Restart=on-failure"),
        std::string("RestartPreventExitStatus=78"), std::string("WatchdogSec=60s"),
        "LoadCredential=api_key:" + key, "EnvironmentFile=-" + env, std::string("DynamicUser=yes"),
        std::string("NoNewPrivileges=yes"), std::string("ProtectSystem=strict"),
        std::string("ProtectHome=yes"), std::string("PrivateTmp=yes"),
        std::string("PrivateDevices=yes"),
        std::string("RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"),
        std::string("SystemCallFilter=@system-service"), std::string("CapabilityBoundingSet=")}) {
    INFO(line);
    CHECK(has_line(u, line));
  }
  // restsyncd must finish its own bounded stop (30s by default) first.
  CHECK(has_line(u, "TimeoutStopSec=45s"));
}

// A copy of the unit in dir whose ExecStart runs the restsyncd just built,
// since systemd-analyze verify wants the program to exist.
std::filesystem::path with_built_program(const char* name, const std::filesystem::path& dir) {
  std::string text = unit_text(name);
  const std::string installed = "ExecStart=/usr/bin/restsyncd ";
  auto at = text.find(installed);
  REQUIRE(at != std::string::npos);
  text.replace(at, installed.size(), "ExecStart=" + (bin_dir() / "restsyncd").string() + " ");
  auto path = dir / name;
  std::ofstream(path) << text;
  return path;
}

const std::string systemd_analyze = "/usr/bin/systemd-analyze";

bool have_systemd_analyze() {
  if (std::filesystem::exists(systemd_analyze)) return true;
  MESSAGE("systemd-analyze is not installed (Debian package systemd); skipped");
  return false;
}

}  // namespace

TEST_CASE("the unit is Type=notify with a watchdog, reload, restarts and the credential") {
  check_directives(unit_text(single_unit), "/etc/restsync/restsync.yaml", "/etc/restsync/api_key",
                   "/etc/restsync/restsync.env");
}

TEST_CASE("the template reads the instance's configuration, key and environment") {
  const std::string u = unit_text(template_unit);
  check_directives(u, "/etc/restsync/%i.yaml", "/etc/restsync/%i/api_key", "/etc/restsync/%i.env");
  CHECK(has_line(u, "Description=restsync (%i): keep PostgreSQL in sync with a REST API"));
}

TEST_CASE("the template has the single unit's directives but for the instance's files") {
  // Which lines may differ, by their key.
  const std::vector<std::string> per_instance = {
      "Description=", "ExecStart=", "LoadCredential=", "EnvironmentFile="};
  auto shared = [&](const std::string& text) {
    std::vector<std::string> out;
    for (const auto& d : directives(text)) {
      bool differs = false;
      for (const auto& key : per_instance) differs = differs || d.rfind(key, 0) == 0;
      out.push_back(differs ? d.substr(0, d.find('=') + 1) + "…" : d);
    }
    return out;
  };
  const auto single = shared(unit_text(single_unit));
  const auto instance = shared(unit_text(template_unit));
  CHECK(single.size() > 40);
  CHECK(single == instance);
}

TEST_CASE("systemd-analyze verify finds nothing to say about either unit") {
  if (!have_systemd_analyze()) return;
  temp_dir dir;
  // Documentation=man:restsyncd(8) is checked with `man`: the page as
  // installed.
  const auto man = staged_install() / "usr/share/man";
  REQUIRE(std::filesystem::exists(man / "man8/restsyncd.8.gz"));
  for (const std::string name : {single_unit, template_unit}) {
    auto unit = with_built_program(name.c_str(), dir.path());
    auto r = run_command({systemd_analyze, "verify", unit.string()}, {{"MANPATH", man.string()}});
    INFO(name, r.out, r.err);
    CHECK(r.code == 0);
    // Unknown keys and bad values are only warnings on stderr.
    CHECK(r.err.empty());
    CHECK(r.out.empty());
  }
}

TEST_CASE("systemd-analyze security rates both units 2.0 or lower") {
  if (!have_systemd_analyze()) return;
  temp_dir dir;
  // The template is rated as one of its instances.
  for (auto [source, instance] : {std::pair{single_unit, "restsyncd.service"},
                                  std::pair{template_unit, "restsyncd@billing.service"}}) {
    const std::string name = instance;
    auto unit = dir.path() / name;
    std::filesystem::copy_file(source_dir() / "systemd" / source, unit);
    auto r =
        run_command({systemd_analyze, "security", "--offline=true", "--no-pager", unit.string()});
    const std::string& out = r.out;
    INFO(name, out, r.err);
    REQUIRE(r.code >= 0);
    std::smatch m;
    REQUIRE(std::regex_search(
        out, m,
        std::regex("Overall exposure level for " +
                   std::regex_replace(name, std::regex(R"([.@])"), R"(\$&)") + R"(: ([0-9.]+))")));
    const double level = std::stod(m[1].str());
    MESSAGE(name, " exposure level ", level);
    CHECK(level <= 2.0);
  }
}

// check-config prints each resource's first request byte for byte as the
// engine sends it: the same parameters, in the same order, encoded alike.
#include <sstream>

#include "sync_harness.hpp"

using namespace rs_test;

namespace {

// resource → the target of its first request in check-config's plan.
std::map<std::string, std::string> planned_targets(const std::string& plan,
                                                   const std::string& base_url) {
  std::map<std::string, std::string> out;
  std::istringstream in(plan);
  std::string line, resource;
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("  ", 0) == 0 && l.size() > 2 && l[2] != ' ') resource = l.substr(2);
    auto at = l.find("first request");
    if (at == std::string::npos) continue;
    auto get = l.find("GET " + base_url);
    REQUIRE(get != std::string::npos);
    out[resource] = l.substr(get + 4 + base_url.size());
  }
  return out;
}

// The first target the emulator logged for path (its --verbose lines are
// `GET <target> key <status> bytes=<n>`).
std::string first_sent(const std::string& log, const std::string& path) {
  std::istringstream in(log);
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("GET " + path + "?", 0) != 0 && l.rfind("GET " + path + " ", 0) != 0) continue;
    return l.substr(4, l.find(' ', 4) - 4);
  }
  return "(not sent)";
}

}  // namespace

TEST_CASE("check-config's first request is the one the engine sends") {
  emulator emu({"--verbose"});
  scratch_database db;
  std::string yaml = analytics_yaml({});
  // Parameters of every kind the query can carry: the endpoint's own (with a
  // space and a placeholder), an incremental start with a lag, an end.
  const std::string widgets = "      path: /v1/accounts/current/changesets\n";
  yaml.replace(
      yaml.find(widgets), widgets.size(),
      widgets +
          "      params: {q: \"a b/c\", from: \"{incremental.start_value}\"}\n"
          "      incremental: {cursor_path: updatedAt, initial_value: \"2020-01-01T00:00:00Z\","
          " end_value: \"2100-01-01T00:00:00Z\", lag: 1h, start_param: since, end_param: until,"
          " on_cursor_value_missing: include}\n");
  const std::string users = "      path: /v1/accounts/current/users\n";
  yaml.replace(yaml.find(users), users.size(),
               users + "      paginator: {type: offset, limit: 20, offset: 0}\n");

  temp_dir dir;
  auto file = dir.path() / "restsync.yaml";
  std::ofstream(file) << yaml;
  process check({(bin_dir() / "restsyncd").string(), "check-config", "--config", file.string()},
                {{"ANALYTICS_BASE_URL", emu.base_url()}, {"ANALYTICS_API_KEY", emu.api_key()}});
  const std::string plan = check.stdout_rest(30s);
  REQUIRE(check.wait(30s) == 0);
  auto planned = planned_targets(plan, emu.base_url());
  INFO(plan);
  REQUIRE(planned.size() == analytics_resources().size());

  auto r = run_sync(yaml, emu, db);
  INFO(r.log);
  REQUIRE(r.status == 0);
  const std::string sent = emu.proc().stderr_text();
  for (const auto& res : analytics_resources()) {
    INFO(res.name);
    CHECK(first_sent(sent, res.path) == planned.at(res.name));
  }
  CHECK(planned.at("custom_widgets").find("?q=a%20b%2Fc&from=") != std::string::npos);
  CHECK(planned.at("users") == "/v1/accounts/current/users?limit=20&offset=0");
}

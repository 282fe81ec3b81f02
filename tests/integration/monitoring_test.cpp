// monitoring/: the Prometheus alerting rules pass `promtool check rules` and
// their own `promtool test rules` cases, the Grafana dashboard is importable
// JSON whose queries are valid PromQL on one datasource input, and every
// metric either of them queries is one that restsyncd really exports.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <regex>
#include <set>

#include "daemon_harness.hpp"
#include "package_harness.hpp"

using namespace rs_test;

namespace {

const std::string promtool = "/usr/bin/promtool";

std::filesystem::path monitoring() { return source_dir() / "monitoring"; }

rapidjson::Document dashboard() {
  rapidjson::Document d;
  d.Parse(read_text(monitoring() / "restsync-dashboard.json").c_str());
  REQUIRE_FALSE(d.HasParseError());
  REQUIRE(d.IsObject());
  return d;
}

bool is_datasource_input(const rapidjson::Value& ds) {
  return ds.IsObject() && ds.HasMember("uid") && ds["uid"].IsString() &&
         std::string(ds["uid"].GetString()) == "${DS_PROMETHEUS}" && ds.HasMember("type") &&
         std::string(ds["type"].GetString()) == "prometheus";
}

// Every query of the dashboard's panels, as Grafana sends it once its
// variables are filled in: every instance and resource, a 5-minute rate
// interval.
std::vector<std::string> dashboard_queries(const rapidjson::Document& d) {
  std::vector<std::string> out;
  for (const auto& p : d["panels"].GetArray()) {
    if (!p.HasMember("targets")) continue;
    for (const auto& t : p["targets"].GetArray()) {
      std::string e = t["expr"].GetString();
      e = std::regex_replace(e, std::regex(R"(\$__rate_interval)"), "5m");
      e = std::regex_replace(e, std::regex(R"(\$(instance|resource)\b)"), ".*");
      out.push_back(e);
    }
  }
  return out;
}

std::set<std::string> metric_names_in(const std::string& text) {
  std::set<std::string> out;
  std::regex name(R"(\b(restsync|process)_[a-z_]+\b)");
  for (std::sregex_iterator it(text.begin(), text.end(), name), end; it != end; ++it)
    out.insert(it->str());
  return out;
}

bool have_promtool() {
  if (std::filesystem::exists(promtool)) return true;
  MESSAGE(
      "promtool is missing (Debian package prometheus; scripts/bootstrap installs it); skipped");
  return false;
}

}  // namespace

TEST_CASE("promtool accepts the alerting rules") {
  if (!have_promtool()) return;
  auto r =
      run_command({promtool, "check", "rules", (monitoring() / "restsync-alerts.yml").string()});
  INFO(r.out, r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("SUCCESS: 5 rules found") != std::string::npos);
}

TEST_CASE("each alert fires on the series it is for and not on those beside them") {
  if (!have_promtool()) return;
  auto r = run_command(
      {promtool, "test", "rules", (monitoring() / "restsync-alerts.test.yml").string()});
  INFO(r.out, r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("SUCCESS") != std::string::npos);
}

TEST_CASE("the dashboard is importable JSON on one Prometheus datasource input") {
  const auto d = dashboard();
  REQUIRE(d.HasMember("__inputs"));
  const auto& inputs = d["__inputs"];
  REQUIRE(inputs.Size() == 1);
  CHECK(std::string(inputs[0]["name"].GetString()) == "DS_PROMETHEUS");
  CHECK(std::string(inputs[0]["type"].GetString()) == "datasource");
  CHECK(std::string(inputs[0]["pluginId"].GetString()) == "prometheus");
  CHECK(std::string(d["uid"].GetString()) == "restsync");
  // No other ${…} than the input: Grafana would ask for it on import.
  const auto text = read_text(monitoring() / "restsync-dashboard.json");
  const std::regex reference(R"(\$\{[^}]*\})");
  for (std::sregex_iterator it(text.begin(), text.end(), reference), end; it != end; ++it)
    CHECK(it->str() == "${DS_PROMETHEUS}");

  std::set<int> ids;
  int queries = 0;
  for (const auto& p : d["panels"].GetArray()) {
    const std::string title = p["title"].GetString();
    INFO(title);
    CHECK(ids.insert(p["id"].GetInt()).second);
    if (std::string(p["type"].GetString()) == "row") continue;
    CHECK(is_datasource_input(p["datasource"]));
    REQUIRE(p.HasMember("targets"));
    CHECK(p["targets"].Size() > 0);
    for (const auto& t : p["targets"].GetArray()) {
      CHECK(is_datasource_input(t["datasource"]));
      CHECK(std::string(t["expr"].GetString()).size() > 0);
      ++queries;
    }
  }
  CHECK(queries > 15);
  for (const auto& v : d["templating"]["list"].GetArray()) {
    INFO(v["name"].GetString());
    CHECK(is_datasource_input(v["datasource"]));
  }
}

TEST_CASE("every query of the dashboard is valid PromQL") {
  if (!have_promtool()) return;
  // As recording rules, which promtool parses: JSON is YAML.
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("groups");
  w.StartArray();
  w.StartObject();
  w.Key("name");
  w.String("dashboard");
  w.Key("rules");
  w.StartArray();
  int n = 0;
  for (const auto& q : dashboard_queries(dashboard())) {
    w.StartObject();
    w.Key("record");
    w.String(("dashboard:query_" + std::to_string(++n)).c_str());
    w.Key("expr");
    w.String(q.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  temp_dir dir;
  const auto rules = dir.path() / "dashboard.rules.yml";
  std::ofstream(rules) << buf.GetString();
  auto r = run_command({promtool, "check", "rules", rules.string()});
  INFO(r.out, r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("SUCCESS: " + std::to_string(n) + " rules found") != std::string::npos);
}

TEST_CASE("every metric the dashboard and the alerts query is one restsyncd exports") {
  std::set<std::string> queried;
  for (const char* file :
       {"restsync-dashboard.json", "restsync-alerts.yml", "restsync-alerts.test.yml"}) {
    auto names = metric_names_in(read_text(monitoring() / file));
    INFO(file);
    CHECK(names.size() > 3);
    queried.insert(names.begin(), names.end());
  }

  emulator emu;
  scratch_database db;
  config_options c;
  c.rate = 20;
  daemon_options d;
  d.only = {"labels"};
  d.max_age = "1h";
  d.metrics_listen = "0";
  daemon_process daemon(daemon_yaml(c, d), emu, db);
  INFO(daemon.log());
  REQUIRE(daemon.wait_log("event=metrics_listening"));
  REQUIRE(eventually([&] { return runs_of(db, "labels", "succeeded") == 1; }, 60s));
  const auto scrape = http_request(metrics_endpoint(daemon), "GET", "/metrics");
  REQUIRE(scrape.status == 200);
  // The names of the samples and of the families (# TYPE name type).
  std::set<std::string> exported;
  std::istringstream lines(scrape.body);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, std::regex(R"(^# TYPE (\S+) )")) ||
        std::regex_search(line, m, std::regex(R"(^([a-z_]+)[{ ])")))
      exported.insert(m[1].str());
  }
  INFO(scrape.body);
  for (const auto& name : queried) {
    INFO(name);
    CHECK(exported.count(name) == 1);
  }
  CHECK(daemon.stop(SIGTERM).first == 0);
}

// Shared by the sync integration tests: a configuration for the nine
// analytics resources pointed at an emulator, a restsyncd run, and the
// check that every table equals the emulator's truth.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "pg.hpp"
#include "support.hpp"

namespace rs_test {

struct analytics_resource {
  std::string name, path, key;
};

inline const std::vector<analytics_resource>& analytics_resources() {
  static const std::vector<analytics_resource> all = {
      {"accounts", "/v1/accounts", "id"},
      {"accounts_feeds", "/v1/accounts/current/feeds", "id"},
      {"users", "/v1/accounts/current/users", "id"},
      {"smartcode", "/v1/accounts/current/smartcode", "uid"},
      {"campaigns", "/v1/accounts/current/campaigns", "id"},
      {"custom_widgets", "/v1/accounts/current/changesets", "id"},
      {"thresholds", "/v1/accounts/current/thresholds", "uid"},
      {"integrations", "/v1/accounts/current/integrations", "uid"},
      {"labels", "/v1/accounts/current/labels", "id"},
  };
  return all;
}

struct config_options {
  double rate = 0;  // requests per second; 0: no limit of our own
  int max_in_flight = 4;
  int max_retries = 3;
  std::vector<int> retry_on = {429, 500, 502, 503, 504};
  bool wrapped_campaigns = false;  // campaigns under _data.partialCollection
  std::string ca_file;
  std::string read_timeout = "10s";
  std::string backoff_factor = "0.05";
  std::string min_rate_limit_wait;  // error_handler.min_rate_limit_wait, when set
  std::string extra_client;         // more YAML lines under client:, indented by 2
  // Incremental cursors where the API has timestamps that help: the feed
  // (newest first, events never change: append) and custom_widgets
  // (updatedAt moves with every change). Records without the field (the
  // emulator serves some) are loaded.
  bool incremental = false;
  // More YAML lines per resource, indented by 4 (under `- name: …`).
  std::map<std::string, std::string> extra_resource;
};

// The start of a configuration's client section: the emulator's URL and
// key, from the environment run_restsyncd sets.
inline std::string emulator_client_yaml() {
  return "client:\n"
         "  base_url: ${env:ANALYTICS_BASE_URL}\n"
         "  auth:\n"
         "    type: api_key\n"
         "    name: api_key\n"
         "    api_key: ${env:ANALYTICS_API_KEY}\n"
         "    location: header\n";
}

// A restsync configuration for all nine resources of the emulator.
inline std::string analytics_yaml(const config_options& o) {
  std::string retry_on;
  for (int s : o.retry_on) retry_on += (retry_on.empty() ? "" : ", ") + std::to_string(s);
  std::string y = emulator_client_yaml() +
                  "  rate_limit: {requests_per_second: " + std::to_string(o.rate) + "}\n" +
                  "  max_in_flight: " + std::to_string(o.max_in_flight) + "\n" +
                  "  timeout: {connect: 5s, read: " + o.read_timeout + "}\n";
  if (!o.ca_file.empty()) y += "  tls: {ca_file: " + o.ca_file + "}\n";
  y += o.extra_client;
  y += "resource_defaults:\n"
       "  primary_key: id\n"
       "  write_disposition: merge\n"
       "  endpoint:\n"
       "    data_selector: _data\n"
       "    paginator: {type: offset, limit: 50, offset_param: offset}\n"
       "    error_handler: {retry_on_status_codes: [" +
       retry_on + "], max_retries: " + std::to_string(o.max_retries) +
       ", backoff_factor: " + o.backoff_factor +
       (o.min_rate_limit_wait.empty() ? "" : ", min_rate_limit_wait: " + o.min_rate_limit_wait) +
       "}\n"
       "resources:\n";
  for (const auto& r : analytics_resources()) {
    y += "  - name: " + r.name + "\n";
    if (r.key != "id") y += "    primary_key: " + r.key + "\n";
    if (auto it = o.extra_resource.find(r.name); it != o.extra_resource.end()) y += it->second;
    if (o.incremental && r.name == "accounts_feeds") y += "    write_disposition: append\n";
    y += "    endpoint:\n      path: " + r.path + "\n";
    if (r.name == "campaigns" && o.wrapped_campaigns)
      y += "      data_selector: _data.partialCollection\n"
           "      paginator: {type: offset, limit: 50, total_path: _data.totalCount}\n";
    if (o.incremental && r.name == "accounts_feeds")
      y += "      incremental: {cursor_path: when, row_order: desc, on_cursor_value_missing: "
           "include}\n";
    if (o.incremental && r.name == "custom_widgets")
      y += "      incremental: {cursor_path: updatedAt, on_cursor_value_missing: include}\n";
  }
  return y;
}

inline std::filesystem::path shipped_config_path() {
  return source_dir() / "config" / "analytics.yaml";
}

// The shipped config/analytics.yaml, as its text.
inline std::string shipped_config_text() {
  std::ifstream in(shipped_config_path());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The shipped configuration with its rate_limit block replaced by the given
// YAML lines (indented by 2, under client:).
inline std::string shipped_config_with(const std::string& rate_limit) {
  std::string text = shipped_config_text();
  const std::string shipped = "  rate_limit:\n    requests_per_second: 1\n    burst: 1\n";
  auto at = text.find(shipped);
  REQUIRE(at != std::string::npos);
  return text.replace(at, shipped.size(), rate_limit);
}

struct sync_result {
  int status = -1;
  std::string log;
};

// Runs `restsyncd sync` against the emulator into db; waits for it.
inline sync_result run_restsyncd(const std::vector<std::string>& args, const emulator& emu,
                                 const scratch_database& db,
                                 std::map<std::string, std::string> env = {}) {
  std::vector<std::string> argv = {(bin_dir() / "restsyncd").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  env.emplace("ANALYTICS_BASE_URL", emu.base_url());
  env.emplace("ANALYTICS_API_KEY", emu.api_key());
  env["PGDATABASE"] = db.name();
  process p(argv, env);
  sync_result r;
  r.status = p.wait(std::chrono::minutes(5)).value_or(-1);
  r.log = p.stderr_text();
  return r;
}

// `restsyncd sync` with the shipped file itself.
inline sync_result run_shipped_sync(const emulator& emu, const scratch_database& db) {
  return run_restsyncd({"sync", "--config", shipped_config_path().string()}, emu, db);
}

inline sync_result run_sync(const std::string& yaml, const emulator& emu,
                            const scratch_database& db, std::vector<std::string> extra = {},
                            std::map<std::string, std::string> env = {}) {
  temp_dir dir;
  auto file = dir.path() / "restsync.yaml";
  std::ofstream(file) << yaml;
  std::vector<std::string> args = {"sync", "--config", file.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_restsyncd(args, emu, db, std::move(env));
}

// The integer value of "key": N in a flat JSON object's text (for /__stats).
inline long long json_int(const std::string& json, const std::string& key) {
  auto at = json.find("\"" + key + "\":");
  if (at == std::string::npos) throw std::runtime_error("no " + key + " in " + json);
  return std::stoll(json.substr(at + key.size() + 3));
}

// Every table equals the truth; reports each difference.
inline void check_tables_equal_truth(const emulator& emu, const scratch_database& db,
                                     const std::vector<std::string>& only = {}) {
  for (const auto& r : analytics_resources()) {
    if (!only.empty() && std::find(only.begin(), only.end(), r.name) == only.end()) continue;
    auto diffs = db.diff_with_truth("analytics", r.name, emu.truth(r.name), {r.key});
    INFO("resource ", r.name);
    for (const auto& d : diffs) MESSAGE(d);
    CHECK(diffs.empty());
  }
}

}  // namespace rs_test

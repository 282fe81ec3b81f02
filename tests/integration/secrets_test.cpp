// The API key never leaves restsync in clear: not in the database, not in
// `status` (plain or JSON), not in the metrics, not in the log at debug
// level, and not in check-config's plan; with the key in a header and in
// the query, against a server that echoes the key back in its errors.
#include "daemon_harness.hpp"

using namespace rs_test;

namespace {

const std::string key = "sk-live-7f3a9c2e51b8d04";

std::string run_cli(const std::vector<std::string>& args, const std::string& yaml,
                    const emulator& emu, const scratch_database& db) {
  temp_dir dir;
  auto file = dir.path() / "restsync.yaml";
  std::ofstream(file) << yaml;
  std::vector<std::string> argv = {(bin_dir() / "restsyncd").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--config", file.string()});
  process p(argv, {{"ANALYTICS_BASE_URL", emu.base_url()},
                   {"ANALYTICS_API_KEY", key},
                   {"PGDATABASE", db.name()}});
  std::string out = p.stdout_rest(30s);
  p.wait(30s);
  return out + p.stderr_text();
}

// Every row of every table restsync made, as text.
std::string database_text(const scratch_database& db) {
  std::string out;
  for (const auto& row : db.query("SELECT table_name FROM information_schema.tables WHERE "
                                  "table_schema = 'analytics' ORDER BY 1"))
    out += row[0] + ":\n" +
           db.scalar("SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM analytics.\"" + row[0] +
                     "\" t") +
           "\n";
  return out;
}

void check_key_kept_secret(bool in_query) {
  std::vector<std::string> args = {"--quirks", "singletons,feed_order,echo_key", "--faults",
                                   "5xx=0.2"};
  if (in_query) args.insert(args.end(), {"--auth-query", "api_key"});
  emulator::options eo{args};
  eo.api_key = key;
  emulator emu(eo);
  scratch_database db;

  daemon_options d;
  d.log_level = "debug";
  d.metrics_listen = "0";
  config_options c;
  c.max_retries = 1;
  std::string yaml = daemon_yaml(c, d);
  if (in_query) yaml.replace(yaml.find("location: header"), 16, "location: query");
  // A resource the API does not have: a 404 whose error names the URL.
  const std::string list = "resources:\n";
  yaml.insert(yaml.find(list) + list.size(),
              "  - name: missing\n    endpoint:\n      path: /v1/accounts/current/nope\n");

  daemon_process daemon(yaml, emu, db, {{"ANALYTICS_API_KEY", key}});
  INFO(daemon.log());
  REQUIRE(daemon.wait_log("event=metrics_listening"));
  auto names = resource_names();
  names.push_back("missing");
  REQUIRE(eventually(
      [&] {
        return std::all_of(names.begin(), names.end(), [&](const std::string& n) {
          return runs_of(db, n) >= 1 && runs_of(db, n, "running") == 0;
        });
      },
      120s));

  const std::string scraped = http_request(metrics_endpoint(daemon), "GET", "/metrics").body;

  const std::string status = run_cli({"status"}, yaml, emu, db);
  const std::string status_json = run_cli({"status", "--json"}, yaml, emu, db);
  const std::string plan = run_cli({"check-config"}, yaml, emu, db);
  const std::string stored = database_text(db);
  REQUIRE(daemon.stop(SIGTERM).first == 0);
  const std::string log = daemon.log();

  // The places were really written to, and the failure is there to read.
  const std::string error = db.scalar(
      "SELECT error FROM analytics._rs_runs WHERE resource = 'missing' ORDER BY id LIMIT 1");
  INFO("stored error: ", error);
  CHECK(error.find("404") != std::string::npos);
  CHECK(error.find("No such endpoint") != std::string::npos);
  if (in_query) CHECK(error.find("api_key=***") != std::string::npos);
  CHECK(status.find("missing") != std::string::npos);
  CHECK(status_json.find("No such endpoint") != std::string::npos);
  CHECK(scraped.find("restsync_runs_total") != std::string::npos);
  CHECK(log.find("level=debug event=page") != std::string::npos);
  CHECK(plan.find("api_key") != std::string::npos);

  for (const auto& [where, text] :
       std::vector<std::pair<std::string, std::string>>{{"database", stored},
                                                        {"status", status},
                                                        {"status --json", status_json},
                                                        {"metrics", scraped},
                                                        {"check-config", plan},
                                                        {"log", log}}) {
    INFO(where, ":\n", text);
    CHECK(text.find(key) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("the key in a header, echoed by the server, is never written in clear") {
  check_key_kept_secret(false);
}

TEST_CASE("the key in the query is never written in clear, nor any URL with it") {
  check_key_kept_secret(true);
}

TEST_CASE("OAuth2: the client secret and the tokens, echoed by the server, are never stored") {
  const std::string secret = "oauth-secret-3c9e71a2b5";
  emulator emu({"--oauth-client-id", "restsync-client", "--oauth-client-secret", secret, "--quirks",
                "singletons,feed_order,echo_key", "--token-max-uses", "2"});
  scratch_database db;
  // users renews its token after each two pages; `missing` is a 404 whose
  // error repeats the Authorization header the request sent.
  const std::string yaml =
      "client:\n"
      "  base_url: ${env:ANALYTICS_BASE_URL}\n"
      "  auth:\n"
      "    type: oauth2_client_credentials\n"
      "    access_token_url: ${env:ANALYTICS_BASE_URL}/oauth/token\n"
      "    client_id: restsync-client\n"
      "    client_secret: ${env:CLIENT_SECRET}\n"
      "  max_in_flight: 1\n"
      "resources:\n"
      "  - name: users\n"
      "    primary_key: id\n"
      "    endpoint: {path: /v1/accounts/current/users, data_selector: _data,\n"
      "               paginator: {type: offset, limit: 20}}\n"
      "  - name: missing\n"
      "    primary_key: id\n"
      "    endpoint: {path: /v1/accounts/current/nope, paginator: single_page}\n";
  auto r = run_sync(yaml, emu, db, {"--log-level", "debug"}, {{"CLIENT_SECRET", secret}});
  INFO(r.log);
  CHECK(r.status == 1);
  const std::string error = db.scalar(
      "SELECT error FROM analytics._rs_runs WHERE resource = 'missing' ORDER BY id LIMIT 1");
  INFO("stored error: ", error);
  // The server echoed the token; what is stored shows the mask in its place.
  CHECK(error.find("(key 'Bearer ***')") != std::string::npos);
  CHECK(r.log.find("event=token_rejected") != std::string::npos);
  const std::string stored = database_text(db);
  for (const auto& text : {r.log, stored}) {
    CHECK(text.find(secret) == std::string::npos);
    CHECK(text.find("tok-") == std::string::npos);
  }
}

// TLS verification failures against the emulator over HTTPS: the error says
// what failed, in terms a person can act on (the names a certificate is for,
// OpenSSL's own reason for the rest). And the warning when it is off.
#include "daemon_harness.hpp"

using namespace rs_test;

namespace {

// An HTTPS emulator serving cert and key (a test_ca pair).
emulator https_emulator(const std::string& cert, const std::string& key) {
  emulator::options eo;
  eo.tls = true;
  eo.cert = cert;
  eo.key = key;
  return emulator(eo);
}

// `restsyncd sync --resource users`, trusting the test CA, at base_url
// (empty: the emulator's own, https://127.0.0.1:PORT): it must fail with
// expected in its log, never with OpenSSL's "unspecified" error.
void check_refused(const emulator& emu, const std::string& expected,
                   const std::string& base_url = {}) {
  scratch_database db;
  config_options o;
  o.ca_file = emu.ep().ca_file;
  std::map<std::string, std::string> env;
  if (!base_url.empty()) env["ANALYTICS_BASE_URL"] = base_url;
  auto r = run_sync(analytics_yaml(o), emu, db, {"--resource", "users"}, env);
  INFO(r.log);
  CHECK(r.status == 1);
  CHECK(r.log.find(expected) != std::string::npos);
  CHECK(r.log.find("unspecified") == std::string::npos);
}

}  // namespace

TEST_CASE("a certificate for other names: the error names the host asked for and the cert's") {
  const auto& ca = shared_test_ca();
  SUBCASE("subjectAltName entries, reached by IP address") {
    check_refused(https_emulator(ca.other_names_cert, ca.other_names_key),
                  "host name mismatch: asked for 127.0.0.1, the certificate is for "
                  "DNS:api.example.com, DNS:www.example.com");
  }
  SUBCASE("no subjectAltName: the subject's CN, reached by host name") {
    auto emu = https_emulator(ca.cn_only_cert, ca.cn_only_key);
    check_refused(
        emu, "host name mismatch: asked for localhost, the certificate is for CN=api.example.com",
        "https://localhost:" + std::to_string(emu.ep().port));
  }
}

TEST_CASE("a certificate no trusted CA signed keeps OpenSSL's reason") {
  const auto& ca = shared_test_ca();
  auto emu = https_emulator(ca.untrusted_cert, ca.untrusted_key);
  check_refused(emu, "TLS handshake with 127.0.0.1:" + std::to_string(emu.ep().port) +
                         " failed: self-signed certificate");
}

TEST_CASE("tls.verify: false warns once at the start of sync and run, and on a reload to false") {
  const auto& ca = shared_test_ca();
  auto emu = https_emulator(ca.untrusted_cert, ca.untrusted_key);
  scratch_database db;
  config_options unverified;
  unverified.extra_client = "  tls: {verify: false}\n";
  config_options verified;
  verified.ca_file = emu.ep().ca_file;
  daemon_options d;
  d.only = {"users"};
  const std::string warning = "level=warning event=tls_not_verified";

  auto r = run_sync(analytics_yaml(unverified), emu, db, {"--resource", "users"});
  INFO(r.log);
  CHECK(r.status == 0);
  CHECK(count_of(r.log, warning) == 1);

  daemon_process daemon(daemon_yaml(unverified, d), emu, db);
  INFO(daemon.log());
  REQUIRE(daemon.wait_log("event=ready"));
  CHECK(count_of(daemon.log(), warning) == 1);
  // A reload that leaves it off says nothing new, nor one that turns it on;
  // one that turns it off again does. The log is in order: a warning from
  // the first two would have come before the third's.
  daemon.signal(SIGHUP);
  REQUIRE(daemon.wait_log("event=reloaded", 30s, 1));
  daemon.write_config(daemon_yaml(verified, d));
  daemon.signal(SIGHUP);
  REQUIRE(daemon.wait_log("event=reloaded", 30s, 2));
  daemon.write_config(daemon_yaml(unverified, d));
  daemon.signal(SIGHUP);
  REQUIRE(daemon.wait_log(warning, 30s, 2));
  CHECK(count_of(daemon.log(), warning) == 2);
  CHECK(daemon.stop(SIGTERM).first == 0);
}

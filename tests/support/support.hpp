// Helpers shared by the integration tests: a blocking HTTP(S) client, child
// processes, a throwaway CA, and a running analytics emulator.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rs_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Directory of the built binaries (build/bin) and of the source tree.
fs::path bin_dir();
fs::path source_dir();

// A directory removed with everything in it when the object dies.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct endpoint {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  bool tls = false;
  std::string ca_file;      // trust anchors for tls; empty means the system store
  std::string server_name;  // SNI and host-name check; empty means host
  bool verify =
      true;  // false: accept any certificate (to query a server that serves an untrusted one)
};

struct http_response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// One request on a fresh connection. Throws std::runtime_error on a transport
// error (refused, reset, timeout, truncated body, TLS verification failure).
http_response http_request(const endpoint& ep, const std::string& method, const std::string& target,
                           const std::map<std::string, std::string>& headers = {},
                           const std::string& body = {}, std::chrono::milliseconds timeout = 30s);

// A child process; stdout is read line by line on request, stderr goes to a
// file. The destructor kills (SIGKILL) and reaps it if still running.
class process {
 public:
  explicit process(const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& extra_env = {});
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  int pid() const { return pid_; }
  // Next line of stdout, or nullopt at end of file or after the timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = 10s);
  bool running();
  // Sends sig and waits; returns the exit status (128+signal when killed).
  int stop(int sig, std::chrono::milliseconds timeout = 30s);
  // Waits for exit; returns the exit status (128+signal when killed), or
  // nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  std::string stderr_text() const;
  std::string stdout_rest(std::chrono::milliseconds timeout = 5s);

 private:
  int pid_ = -1;
  int out_fd_ = -1;
  std::string out_buf_;
  fs::path err_file_;
  std::optional<int> status_;
};

// A throwaway CA and a server certificate for 127.0.0.1 / localhost it signed,
// made with the openssl CLI; plus a self-signed certificate nobody trusts, and
// two the CA signed for other names: api.example.com and www.example.com
// (subjectAltName), and api.example.com as the subject's CN alone.
struct test_ca {
  temp_dir dir;
  std::string ca_cert, server_cert, server_key;
  std::string untrusted_cert, untrusted_key;
  std::string other_names_cert, other_names_key;
  std::string cn_only_cert, cn_only_key;
};
const test_ca& shared_test_ca();

// An analytics-emulator child process listening on 127.0.0.1 on a free port.
class emulator {
 public:
  struct options {
    std::vector<std::string> args;  // extra CLI arguments
    bool tls = false;
    bool untrusted_cert = false;  // serve the self-signed certificate
    // With tls: serve this certificate and key instead (a test_ca pair).
    std::string cert{};
    std::string key{};
    std::string api_key = "test-key";
  };
  explicit emulator(options opts);
  explicit emulator(std::vector<std::string> args = {}) : emulator(options{std::move(args)}) {}

  const endpoint& ep() const { return ep_; }
  std::string base_url() const;
  const std::string& api_key() const { return opts_.api_key; }
  // GET with the API key header (api_key unless the args set --auth-header).
  http_response get(const std::string& target, bool with_key = true) const;
  std::string truth(const std::string& resource) const;  // JSON array text
  std::string stats() const;                             // JSON object text
  http_response mutate(const std::string& json_body) const;
  process& proc() { return *proc_; }

 private:
  options opts_;
  std::string auth_header_ = "api_key";
  endpoint ep_;
  std::unique_ptr<process> proc_;
};

}  // namespace rs_test

// Processes, temporary directories, certificates and the emulator launcher
// for the integration tests.
#include "support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <utility>

extern char** environ;

namespace rs_test {

namespace {

fs::path env_dir(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? fs::path(v) : fs::path(fallback);
}

int status_to_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void run_or_throw(const std::vector<std::string>& argv) {
  process p(argv);
  auto code = p.wait(60s);
  if (!code || *code != 0)
    throw std::runtime_error("command failed: " + argv.front() + ": " + p.stderr_text());
}

}  // namespace

fs::path bin_dir() { return env_dir("RESTSYNC_BIN_DIR", "build/bin"); }
fs::path source_dir() { return env_dir("RESTSYNC_SOURCE_DIR", "."); }

temp_dir::temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "restsync-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

process::process(const std::vector<std::string>& argv,
                 const std::map<std::string, std::string>& extra_env) {
  if (argv.empty()) throw std::invalid_argument("process: empty argv");
  char err_template[] = "/tmp/restsync-proc-err-XXXXXX";
  int err_fd = mkstemp(err_template);
  if (err_fd < 0) throw std::runtime_error("mkstemp failed");
  err_file_ = err_template;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos && extra_env.count(entry.substr(0, eq))) continue;
    env_strings.push_back(entry);
  }
  for (const auto& [k, v] : extra_env) env_strings.push_back(k + "=" + v);
  std::vector<char*> c_env, c_argv;
  for (auto& s : env_strings) c_env.push_back(s.data());
  c_env.push_back(nullptr);
  std::vector<std::string> args = argv;
  for (auto& s : args) c_argv.push_back(s.data());
  c_argv.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(pipe_fds[1], 1);
    dup2(err_fd, 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    execve(c_argv[0], c_argv.data(), c_env.data());
    dprintf(2, "exec %s: %s\n", c_argv[0], std::strerror(errno));
    _exit(127);
  }
  close(pipe_fds[1]);
  close(err_fd);
  out_fd_ = pipe_fds[0];
}

process::~process() {
  if (!status_.has_value() && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    waitpid(pid_, &st, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  std::error_code ec;
  fs::remove(err_file_, ec);
}

std::optional<std::string> process::read_line(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto nl = out_buf_.find('\n');
    if (nl != std::string::npos) {
      std::string line = out_buf_.substr(0, nl);
      out_buf_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || out_fd_ < 0) return std::nullopt;
    pollfd pfd{out_fd_, POLLIN, 0};
    int r = poll(&pfd, 1, static_cast<int>(left.count()));
    if (r <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      close(out_fd_);
      out_fd_ = -1;
      if (out_buf_.empty()) return std::nullopt;
      std::string line;
      line.swap(out_buf_);
      return line;
    }
    out_buf_.append(buf, static_cast<size_t>(n));
  }
}

std::string process::stdout_rest(std::chrono::milliseconds timeout) {
  std::string all;
  while (auto line = read_line(timeout)) all += *line + "\n";
  return all;
}

bool process::running() {
  if (status_) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = status_to_code(st);
    return false;
  }
  return true;
}

std::optional<int> process::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
  return status_;
}

int process::stop(int sig, std::chrono::milliseconds timeout) {
  if (running()) ::kill(pid_, sig);
  if (auto code = wait(timeout)) return *code;
  ::kill(pid_, SIGKILL);
  return wait(60s).value_or(-1);
}

std::string process::stderr_text() const {
  std::ifstream in(err_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const test_ca& shared_test_ca() {
  static const test_ca* ca = [] {
    auto* c = new test_ca;
    const auto d = c->dir.path();
    c->ca_cert = (d / "ca.pem").string();
    c->server_cert = (d / "server.pem").string();
    c->server_key = (d / "server.key").string();
    c->untrusted_cert = (d / "untrusted.pem").string();
    c->untrusted_key = (d / "untrusted.key").string();
    const std::string openssl = "/usr/bin/openssl";
    const std::string ca_key = (d / "ca.key").string();
    const std::string csr = (d / "server.csr").string();
    const std::string ext = (d / "server.ext").string();
    std::ofstream(ext) << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                          "basicConstraints=CA:FALSE\n"
                          "keyUsage=digitalSignature,keyEncipherment\n"
                          "extendedKeyUsage=serverAuth\n";
    run_or_throw({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key,
                  "-out", c->ca_cert, "-days", "2", "-subj", "/CN=restsync test CA"});
    run_or_throw({openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", c->server_key, "-out",
                  csr, "-subj", "/CN=localhost"});
    run_or_throw({openssl, "x509", "-req", "-in", csr, "-CA", c->ca_cert, "-CAkey", ca_key,
                  "-CAcreateserial", "-out", c->server_cert, "-days", "2", "-extfile", ext});
    run_or_throw({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                  c->untrusted_key, "-out", c->untrusted_cert, "-days", "2", "-subj",
                  "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"});
    // Signed by the CA, so that only the name can fail to match.
    auto issue = [&](const std::string& name, const std::string& extensions) {
      const std::string cert = (d / (name + ".pem")).string(), key = (d / (name + ".key")).string();
      const std::string request = (d / (name + ".csr")).string();
      const std::string ext_file = (d / (name + ".ext")).string();
      std::ofstream(ext_file) << extensions;
      run_or_throw({openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", request, "-subj", "/CN=api.example.com"});
      run_or_throw({openssl, "x509", "-req", "-in", request, "-CA", c->ca_cert, "-CAkey", ca_key,
                    "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext_file});
      return std::pair(cert, key);
    };
    std::tie(c->other_names_cert, c->other_names_key) =
        issue("other-names",
              "subjectAltName=DNS:api.example.com,DNS:www.example.com\n"
              "extendedKeyUsage=serverAuth\n");
    std::tie(c->cn_only_cert, c->cn_only_key) = issue("cn-only", "extendedKeyUsage=serverAuth\n");
    return c;
  }();
  return *ca;
}

emulator::emulator(options opts) : opts_(std::move(opts)) {
  std::vector<std::string> argv = {(bin_dir() / "analytics-emulator").string(), "--listen",
                                   "127.0.0.1:0", "--api-key", opts_.api_key};
  for (size_t i = 0; i < opts_.args.size(); ++i) {
    if (opts_.args[i] == "--auth-header" && i + 1 < opts_.args.size())
      auth_header_ = opts_.args[i + 1];
    argv.push_back(opts_.args[i]);
  }
  if (opts_.tls) {
    const auto& ca = shared_test_ca();
    std::string cert = opts_.untrusted_cert ? ca.untrusted_cert : ca.server_cert;
    std::string key = opts_.untrusted_cert ? ca.untrusted_key : ca.server_key;
    if (!opts_.cert.empty()) std::tie(cert, key) = std::pair(opts_.cert, opts_.key);
    argv.insert(argv.end(), {"--tls-cert", cert, "--tls-key", key});
    ep_.tls = true;
    ep_.ca_file = ca.ca_cert;
  }
  proc_ = std::make_unique<process>(argv);
  auto line = proc_->read_line(60s);
  const std::string prefix = "listening ";
  if (!line || line->rfind(prefix, 0) != 0)
    throw std::runtime_error("emulator did not start: " + line.value_or("<no output>") + "\n" +
                             proc_->stderr_text());
  auto colon = line->rfind(':');
  ep_.host = line->substr(prefix.size(), colon - prefix.size());
  ep_.port = static_cast<unsigned short>(std::stoi(line->substr(colon + 1)));
}

std::string emulator::base_url() const {
  return std::string(ep_.tls ? "https://" : "http://") + ep_.host + ":" + std::to_string(ep_.port);
}

http_response emulator::get(const std::string& target, bool with_key) const {
  std::map<std::string, std::string> headers;
  if (with_key) headers[auth_header_] = opts_.api_key;
  return http_request(ep_, "GET", target, headers);
}

std::string emulator::truth(const std::string& resource) const {
  auto res = http_request(ep_, "GET", "/__truth/" + resource);
  if (res.status != 200)
    throw std::runtime_error("truth " + resource + ": HTTP " + std::to_string(res.status));
  return res.body;
}

std::string emulator::stats() const {
  auto res = http_request(ep_, "GET", "/__stats");
  if (res.status != 200) throw std::runtime_error("stats: HTTP " + std::to_string(res.status));
  return res.body;
}

http_response emulator::mutate(const std::string& json_body) const {
  return http_request(ep_, "POST", "/__mutate", {{"content-type", "application/json"}}, json_body);
}

}  // namespace rs_test

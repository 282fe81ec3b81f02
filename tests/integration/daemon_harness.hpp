// Shared by the daemon integration tests: `restsyncd run` as a child process
// against the emulator and a scratch database, with helpers to wait for log
// lines and database states, and a configuration with short intervals.
#pragma once

#include <signal.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <regex>
#include <thread>

#include "sync_harness.hpp"

namespace rs_test {

struct daemon_options {
  std::string interval = "1h";  // every resource's schedule.interval unless overridden
  std::map<std::string, std::string> intervals;  // resource → interval
  std::vector<std::string> only;                 // the resources to configure; empty: all nine
  std::string failure_backoff = "1s";
  std::string shutdown_timeout = "5s";
  std::string log_level = "info";
  std::string metrics_listen;  // empty: no metrics
  std::string max_age;         // empty: none
  std::string extra_top;       // more YAML at the top level
  std::string lease;           // daemon.lease; empty: the default
  std::string instance;        // daemon.instance; empty: host:pid
};

// analytics_yaml, with schedules and the daemon's own keys.
inline std::string daemon_yaml(const config_options& c, const daemon_options& d) {
  std::string y = analytics_yaml(c);
  const std::string defaults = "resource_defaults:\n";
  std::string more =
      "  schedule: {interval: " + d.interval + ", failure_backoff: " + d.failure_backoff + "}\n";
  if (!d.max_age.empty()) more += "  max_age: " + d.max_age + "\n";
  y.insert(y.find(defaults) + defaults.size(), more);
  // Keep only the listed resources, and give some their own interval.
  std::string out;
  std::size_t pos = y.find("resources:\n");
  out = y.substr(0, pos + std::string("resources:\n").size());
  std::string rest = y.substr(pos + std::string("resources:\n").size());
  std::vector<std::string> items;
  for (std::size_t at = 0; at < rest.size();) {
    std::size_t next = rest.find("\n  - name: ", at);
    std::size_t end = next == std::string::npos ? rest.size() : next + 1;
    items.push_back(rest.substr(at, end - at));
    at = end;
  }
  for (auto& item : items) {
    std::string name = item.substr(std::string("  - name: ").size());
    name = name.substr(0, name.find('\n'));
    if (!d.only.empty() && std::find(d.only.begin(), d.only.end(), name) == d.only.end()) continue;
    if (auto it = d.intervals.find(name); it != d.intervals.end())
      item += "    schedule: {interval: " + it->second + "}\n";
    out += item;
  }
  out += "daemon: {shutdown_timeout: " + d.shutdown_timeout;
  if (!d.lease.empty()) out += ", lease: " + d.lease;
  if (!d.instance.empty()) out += ", instance: " + d.instance;
  out += "}\n";
  out += "log: {level: " + d.log_level + "}\n";
  if (!d.metrics_listen.empty()) out += "metrics: {listen: \"" + d.metrics_listen + "\"}\n";
  out += d.extra_top;
  return out;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = 100ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

// Waits until a run in progress has committed at least `pages` pages (the
// tables may not exist yet at first).
inline bool running_run_has_pages(const scratch_database& db, int pages,
                                  std::chrono::milliseconds timeout = 60s) {
  return eventually(
      [&] {
        try {
          return std::stoi(db.scalar("SELECT coalesce(max(pages), 0) FROM analytics._rs_runs WHERE "
                                     "status = 'running'")) >= pages;
        } catch (const std::exception&) {
          return false;
        }
      },
      timeout);
}

inline std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) ++n;
  return n;
}

// `restsyncd run` on a configuration file it owns, against emu and db.
class daemon_process {
 public:
  daemon_process(const std::string& yaml, const emulator& emu, const scratch_database& db,
                 std::map<std::string, std::string> env = {},
                 std::vector<std::string> extra_args = {})
      : file_(dir_.path() / "restsync.yaml") {
    write_config(yaml);
    std::vector<std::string> argv = {(bin_dir() / "restsyncd").string(), "run", "--config",
                                     file_.string()};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    env.emplace("ANALYTICS_BASE_URL", emu.base_url());
    env.emplace("ANALYTICS_API_KEY", emu.api_key());
    env.emplace("PGDATABASE", db.name());
    proc_ = std::make_unique<process>(argv, env);
  }

  void write_config(const std::string& yaml) {
    // Replaced whole, as an editor or a deployment tool would.
    auto tmp = file_;
    tmp += ".new";
    std::ofstream(tmp) << yaml;
    std::filesystem::rename(tmp, file_);
  }

  void signal(int sig) { ::kill(proc_->pid(), sig); }
  std::string log() const { return proc_->stderr_text(); }
  bool running() { return proc_->running(); }
  int pid() const { return proc_->pid(); }
  process& proc() { return *proc_; }
  const std::filesystem::path& config_file() const { return file_; }

  // Waits for the log to contain part `times` times.
  bool wait_log(const std::string& part, std::chrono::milliseconds timeout = 60s,
                std::size_t times = 1) {
    return eventually([&] { return count_of(log(), part) >= times; }, timeout);
  }

  // The exit status after sig, and how long the exit took.
  std::pair<int, std::chrono::milliseconds> stop(int sig = SIGTERM,
                                                 std::chrono::milliseconds timeout = 60s) {
    auto t0 = std::chrono::steady_clock::now();
    int code = proc_->stop(sig, timeout);
    return {code, std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0)};
  }

 private:
  temp_dir dir_;
  std::filesystem::path file_;
  std::unique_ptr<process> proc_;
};

// The port of the metrics endpoint, from the daemon's log.
inline endpoint metrics_endpoint(const daemon_process& daemon) {
  std::smatch m;
  const std::string log = daemon.log();
  REQUIRE(std::regex_search(log, m,
                            std::regex(R"(event=metrics_listening address=127\.0\.0\.1:(\d+))")));
  endpoint ep;
  ep.port = static_cast<unsigned short>(std::stoi(m[1].str()));
  return ep;
}

// Runs of a resource in _rs_runs with the given status ('' for any).
inline int runs_of(const scratch_database& db, const std::string& resource,
                   const std::string& status = "") {
  std::string sql = "SELECT count(*) FROM analytics._rs_runs WHERE resource = '" + resource + "'";
  if (!status.empty()) sql += " AND status = '" + status + "'";
  try {
    return std::stoi(db.scalar(sql));
  } catch (const std::exception&) {
    return 0;  // the tables do not exist yet
  }
}

inline std::vector<std::string> resource_names(const std::vector<std::string>& only = {}) {
  std::vector<std::string> out;
  for (const auto& r : analytics_resources())
    if (only.empty() || std::find(only.begin(), only.end(), r.name) != only.end())
      out.push_back(r.name);
  return out;
}

}  // namespace rs_test

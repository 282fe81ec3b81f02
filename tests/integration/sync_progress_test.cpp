// `restsyncd sync` on a terminal shows live progress per resource, with the
// log's lines above it untorn and the final state left on screen; on a
// pipe, with TERM=dumb, under systemd or with --progress never it writes the
// log lines and nothing else (issue 12, item 6).
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <regex>
#include <sstream>

#include "sync_harness.hpp"

extern char** environ;

using namespace rs_test;

namespace {

constexpr unsigned short columns = 500;  // no log line wraps: each is one row
constexpr unsigned short rows = 40;

struct attached_run {
  int status = -1;
  std::string output;  // stdout and stderr, as the terminal or pipe got them
};

// restsyncd with stdout and stderr on a new pseudo-terminal (or a pipe),
// read until it exits. env adds to this process's environment, except that
// INVOCATION_ID and JOURNAL_STREAM are left out unless env sets them.
attached_run run_attached(const std::vector<std::string>& args,
                          std::map<std::string, std::string> env, bool terminal) {
  std::vector<std::string> argv = {(bin_dir() / "restsyncd").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    const auto name = entry.substr(0, entry.find('='));
    if (env.count(name) || name == "INVOCATION_ID" || name == "JOURNAL_STREAM") continue;
    env_strings.push_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> c_argv, c_env;
  for (auto& s : argv) c_argv.push_back(s.data());
  c_argv.push_back(nullptr);
  for (auto& s : env_strings) c_env.push_back(s.data());
  c_env.push_back(nullptr);

  int read_fd = -1;
  pid_t pid = -1;
  if (terminal) {
    winsize size{};
    size.ws_col = columns;
    size.ws_row = rows;
    pid = forkpty(&read_fd, nullptr, nullptr, &size);
  } else {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    pid = fork();
    if (pid == 0) {
      dup2(fds[1], 1);
      dup2(fds[1], 2);
    } else {
      close(fds[1]);
      read_fd = fds[0];
    }
  }
  REQUIRE(pid >= 0);
  if (pid == 0) {
    execve(c_argv[0], c_argv.data(), c_env.data());
    _exit(127);
  }
  attached_run r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{read_fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) == 0) continue;
    const auto n = ::read(read_fd, buf, sizeof buf);
    if (n > 0) {
      r.output.append(buf, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // end of the pipe, or EIO: the terminal's last writer is gone
    }
  }
  ::kill(pid, SIGKILL);  // nothing left to kill unless the deadline passed
  close(read_fd);
  int st = 0;
  waitpid(pid, &st, 0);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

// The rows a terminal holds after `output` (scrolled-off rows included),
// for the bytes restsyncd writes: text, CR, LF, and ESC [ n A (up), ESC [ K
// (clear to the end of the row), ESC [ J (clear to the end of the screen).
// Throws for any other control sequence.
std::vector<std::string> screen_after(const std::string& output) {
  std::vector<std::string> screen(1);
  std::size_t row = 0, col = 0;
  for (std::size_t i = 0; i < output.size(); ++i) {
    const char c = output[i];
    if (c == '\x1b') {
      static const std::regex csi("^\\x1b\\[([0-9]*)([AKJ])");
      std::smatch m;
      const auto rest = output.substr(i, 16);
      if (!std::regex_search(rest, m, csi))
        throw std::runtime_error("unexpected escape: " + rest.substr(1));
      const char op = m[2].str()[0];
      if (op == 'A') row -= std::min<std::size_t>(row, m[1].length() ? std::stoul(m[1]) : 1);
      if (op == 'K' || op == 'J') screen[row].resize(std::min(screen[row].size(), col));
      if (op == 'J') screen.resize(row + 1);
      i += static_cast<std::size_t>(m[0].length()) - 1;
    } else if (c == '\r') {
      col = 0;
    } else if (c == '\n') {
      if (++row == screen.size()) screen.emplace_back();
      col = 0;
    } else {
      if (static_cast<unsigned char>(c) < 0x20)
        throw std::runtime_error("unexpected control byte " + std::to_string(int(c)));
      if (col == columns) {
        if (++row == screen.size()) screen.emplace_back();
        col = 0;
      }
      auto& line = screen[row];
      if (line.size() <= col) line.resize(col + 1, ' ');
      line[col++] = c;
    }
  }
  while (!screen.empty() && screen.back().empty()) screen.pop_back();
  return screen;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The end of an output or a screen, for a failure's message.
std::string tail_of(const std::string& output) {
  return output.substr(output.size() - std::min<std::size_t>(output.size(), 6000));
}
std::string tail_of(const std::vector<std::string>& screen) {
  std::string out;
  for (auto row = screen.size() > rows ? screen.end() - rows : screen.begin(); row != screen.end();
       ++row)
    out += *row + "\n";
  return out;
}

// A rate limit of 2 requests/s (restsync's as the API's) and a 429 now and
// then, each asking for a second's wait; campaigns report their total.
std::vector<std::string> slow_api() {
  return {"--rate-limit", "2", "--faults", "429=0.15", "--quirks", "singletons,feed_order,wrapped"};
}

config_options slow_config() {
  config_options o;
  o.rate = 2;
  o.wrapped_campaigns = true;
  o.max_retries = 10;
  return o;
}

std::map<std::string, std::string> env_for(const emulator& emu, const scratch_database& db) {
  return {{"ANALYTICS_BASE_URL", emu.base_url()},
          {"ANALYTICS_API_KEY", emu.api_key()},
          {"PGDATABASE", db.name()},
          {"TERM", "xterm-256color"}};
}

// `restsyncd sync` of every resource against the slow API, on a terminal
// or a pipe: it exits 0 with every table as the API holds it. What it wrote.
std::string sync_all(bool terminal) {
  emulator emu(slow_api());
  scratch_database db;
  temp_dir dir;
  const auto file = (dir.path() / "restsync.yaml").string();
  std::ofstream(file) << analytics_yaml(slow_config());
  auto r = run_attached({"sync", "--config", file}, env_for(emu, db), terminal);
  REQUIRE_MESSAGE(r.status == 0, tail_of(r.output));
  check_tables_equal_truth(emu, db);
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status = 'succeeded'") == "9");
  return r.output;
}

// Every line is a log line as restsyncd writes on a pipe: no progress.
void check_plain_log(const std::string& output) {
  CHECK_FALSE(contains(output, "\x1b"));
  CHECK_FALSE(contains(output, "restsyncd sync:"));
  const auto lines = lines_of(output);
  const auto other = std::find_if(lines.begin(), lines.end(), [](const std::string& line) {
    return line.rfind("ts=", 0) != 0;
  });
  CHECK_MESSAGE(other == lines.end(), "not a log line: ", other == lines.end() ? "" : *other);
}

}  // namespace

TEST_CASE("on a terminal: progress per resource, log lines above it, the final state kept") {
  const auto output = sync_all(true);
  const auto screen = screen_after(output);
  INFO("the screen at the end:\n", tail_of(screen));

  // While it ran: resources running with their counts, a 429 waited out,
  // and campaigns' pages left from the total the API reported.
  CHECK(contains(output, "running  pages "));
  CHECK(contains(output, "429, waiting "));
  CHECK(contains(output, "for a 429"));
  CHECK(std::regex_search(output, std::regex("  campaigns +running +pages 1 +records +[0-9]+/80 "
                                             "+requests +[0-9]+  ~[0-9]+ pages? left, ~[0-9]+s")));

  // At the end: the log's lines whole, one block, every resource done.
  const auto& names = analytics_resources();
  REQUIRE(screen.size() > names.size() + 1);
  const auto block = screen.end() - static_cast<std::ptrdiff_t>(names.size() + 1);
  CHECK(block->rfind("restsyncd sync: 9/9 done | gate ", 0) == 0);
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto& line = block[static_cast<std::ptrdiff_t>(i + 1)];
    CAPTURE(line);
    CHECK(std::regex_search(line, std::regex("^  " + names[i].name + " +done +pages [0-9]+ ")));
  }
  CHECK(contains(block[5], "records 80/80"));  // campaigns
  // A block not cleared before a log line leaves rows of it among them.
  const auto torn = std::find_if(screen.begin(), block,
                                 [](const std::string& row) { return row.rfind("ts=", 0) != 0; });
  CHECK_MESSAGE(torn == block, "not a log line: ", torn == block ? "" : *torn);
  for (const auto& resource : names) {
    const auto summary = std::count_if(screen.begin(), block, [&](const std::string& row) {
      return contains(row, " event=summary resource=" + resource.name + " status=ok ");
    });
    CHECK_MESSAGE(summary == 1, resource.name);
  }
}

TEST_CASE("on a pipe the same sync writes its log lines and nothing else") {
  const auto output = sync_all(false);
  check_plain_log(output);
  for (const auto& resource : analytics_resources())
    CHECK(contains(output, " event=summary resource=" + resource.name + " status=ok "));
}

TEST_CASE("no progress for TERM=dumb, under systemd or with --progress never; always forces it") {
  emulator emu;
  scratch_database db;
  temp_dir dir;
  const auto file = (dir.path() / "restsync.yaml").string();
  std::ofstream(file) << analytics_yaml(config_options{});
  const std::vector<std::string> accounts = {"sync", "--config", file, "--resource", "accounts"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = accounts;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };

  struct quiet_case {
    const char* what;
    std::vector<std::string> extra_args;
    std::map<std::string, std::string> extra_env;
  };
  const std::vector<quiet_case> quiet = {
      {"TERM=dumb", {}, {{"TERM", "dumb"}}},
      {"under systemd", {}, {{"INVOCATION_ID", "0123456789abcdef"}}},
      {"--progress never", {"--progress", "never"}, {}},
  };
  for (const auto& q : quiet) {
    auto env = env_for(emu, db);
    for (const auto& [name, value] : q.extra_env) env[name] = value;
    auto r = run_attached(with(q.extra_args), env, true);
    INFO(q.what, ": ", tail_of(r.output));
    CHECK(r.status == 0);
    check_plain_log(r.output);
  }
  {
    auto r = run_attached(with({"--progress", "always"}), env_for(emu, db), false);
    INFO("--progress always: ", tail_of(r.output));
    CHECK(r.status == 0);
    CHECK(contains(r.output, "\x1b["));
    CHECK(contains(r.output, "restsyncd sync: 1/1 done"));
  }
  {
    auto r = run_attached(with({"--progress", "sometimes"}), env_for(emu, db), false);
    CHECK(r.status == 64);
    CHECK(contains(r.output, "--progress sometimes: expected auto, always or never"));
  }
}

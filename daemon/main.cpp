// restsyncd: the command line. `run` is the daemon; `sync` runs every
// selected resource once and exits; `status` shows what PostgreSQL knows of
// every resource; `check-config` validates a configuration and prints its plan.
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "config_warnings.hpp"
#include "restsync/config/load.hpp"
#include "restsync/config/suggest.hpp"
#include "restsync/observe/live_block.hpp"
#include "restsync/observe/log.hpp"
#include "restsync/observe/progress_render.hpp"
#include "restsync/observe/sync_progress.hpp"
#include "restsync/plan/describe.hpp"
#include "restsync/store/store.hpp"
#include "restsync/sync/engine.hpp"
#include "restsync/version.hpp"
#include "run_command.hpp"
#include "status_command.hpp"
#include "store_settings.hpp"

namespace asio = boost::asio;
using namespace restsync;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 64;  // sysexits.h EX_USAGE

struct options {
  std::string command;
  std::string config_file;
  std::vector<std::string> resources;
  std::optional<log_level> level;
  bool json = false;
  bool full_refresh = false;
  std::optional<progress_mode> progress;
};

void usage(std::FILE* out) {
  std::fputs(
      "usage: restsyncd COMMAND --config FILE [options]\n"
      "\n"
      "commands:\n"
      "  run            the daemon: every resource on its schedule until SIGTERM;\n"
      "                 SIGHUP reloads the configuration\n"
      "  sync           run every resource once (or those named by --resource), then exit\n"
      "  status         every resource's last success, last error, age and last run\n"
      "  check-config   validate the configuration and print the resolved plan\n"
      "\n"
      "options:\n"
      "  --config FILE      the YAML configuration (required)\n"
      "  --resource NAME    with sync: only this resource (repeatable)\n"
      "  --full-refresh     with sync: read from the incremental initial_value (or\n"
      "                     everything) instead of the stored cursor; keeps the tables\n"
      "  --progress WHEN    with sync: live progress per resource on stderr: auto (on a\n"
      "                     terminal, not under systemd; the default), always or never\n"
      "  --json             with status: JSON instead of a table\n"
      "  --log-level LEVEL  debug, info, warning or error (default: log.level, else info)\n"
      "  --version          print the version\n"
      "  -h, --help         print this help\n"
      "\n"
      "exit status: 0 success; 1 a resource failed (sync), a resource is older than its\n"
      "max_age (status) or the daemon could not start (run); 64 bad usage;\n"
      "69 the database cannot be read (status); 78 bad configuration\n",
      out);
}

std::optional<options> parse_args(int argc, char** argv) {
  options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    auto value = [&](const char* name) -> std::optional<std::string> {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "restsyncd: %s needs a value\n", name);
        return std::nullopt;
      }
      return args[++i];
    };
    // The value of an option that takes one of a few words, parsed.
    auto word = [&](const char* name, auto parse,
                    const char* expected) -> decltype(parse(std::string_view())) {
      auto v = value(name);
      if (!v) return std::nullopt;
      auto parsed = parse(*v);
      if (!parsed)
        std::fprintf(stderr, "restsyncd: %s %s: expected %s\n", name, v->c_str(), expected);
      return parsed;
    };
    if (a == "--help" || a == "-h") {
      usage(stdout);
      std::exit(exit_ok);
    } else if (a == "--version") {
      std::printf("restsyncd %s\n", std::string(version()).c_str());
      std::exit(exit_ok);
    } else if (a == "--config") {
      auto v = value("--config");
      if (!v) return std::nullopt;
      o.config_file = *v;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--full-refresh") {
      o.full_refresh = true;
    } else if (a == "--resource") {
      auto v = value("--resource");
      if (!v) return std::nullopt;
      o.resources.push_back(*v);
    } else if (a == "--progress") {
      o.progress = word("--progress", parse_progress_mode, "auto, always or never");
      if (!o.progress) return std::nullopt;
    } else if (a == "--log-level") {
      o.level = word("--log-level", parse_log_level, "debug, info, warning or error");
      if (!o.level) return std::nullopt;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "restsyncd: unknown option %s\n", a.c_str());
      return std::nullopt;
    } else if (o.command.empty()) {
      o.command = a;
    } else {
      std::fprintf(stderr, "restsyncd: unexpected argument %s\n", a.c_str());
      return std::nullopt;
    }
  }
  if (o.command != "run" && o.command != "sync" && o.command != "status" &&
      o.command != "check-config") {
    std::fprintf(
        stderr,
        o.command.empty() ? "restsyncd: no command given\n" : "restsyncd: unknown command %s\n",
        o.command.c_str());
    return std::nullopt;
  }
  if (o.config_file.empty()) {
    std::fprintf(stderr, "restsyncd: --config FILE is required\n");
    return std::nullopt;
  }
  if (!o.resources.empty() && o.command != "sync") {
    std::fprintf(stderr, "restsyncd: --resource is for sync only\n");
    return std::nullopt;
  }
  if (o.full_refresh && o.command != "sync") {
    std::fprintf(stderr, "restsyncd: --full-refresh is for sync only\n");
    return std::nullopt;
  }
  if (o.progress && o.command != "sync") {
    std::fprintf(stderr, "restsyncd: --progress is for sync only\n");
    return std::nullopt;
  }
  if (o.json && o.command != "status") {
    std::fprintf(stderr, "restsyncd: --json is for status only\n");
    return std::nullopt;
  }
  return o;
}

// The resources --resource names, or all; a name that is not configured is a
// configuration error, reported with the nearest configured name.
std::optional<std::vector<const resource_config*>> select_resources(const config& cfg,
                                                                    const options& o) {
  std::vector<const resource_config*> out;
  if (o.resources.empty()) {
    for (const auto& r : cfg.resources) out.push_back(&r);
    return out;
  }
  std::vector<std::string_view> names;
  for (const auto& r : cfg.resources) names.push_back(r.name);
  for (const auto& name : o.resources) {
    if (auto* r = find_resource(cfg, name)) {
      if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
      continue;
    }
    auto near = closest_match(name, names);
    std::fprintf(stderr, "restsyncd: --resource %s: no such resource in %s%s%s%s\n", name.c_str(),
                 cfg.source.c_str(), near ? " (did you mean " : "",
                 near ? std::string(*near).c_str() : "", near ? "?)" : "");
    return std::nullopt;
  }
  return out;
}

// A sync's live progress on stderr: the model the engine feeds and the block
// that shows it, redrawn from the event loop a few times a second; the log's
// lines go above the block meanwhile.
class live_progress {
 public:
  static constexpr std::chrono::milliseconds redraw_interval{250};

  live_progress(asio::io_context& ioc, const std::vector<const resource_config*>& resources,
                logger& log)
      : model_(names_of(resources)), block_(stderr), log_(log), timer_(ioc) {
    log_.set_sink(&block_);
  }
  ~live_progress() { stop(); }
  live_progress(const live_progress&) = delete;
  live_progress& operator=(const live_progress&) = delete;

  progress_sink& sink() { return model_; }

  // Until finish(); e must outlive it.
  asio::awaitable<void> keep_drawing(const sync::engine& e) {
    while (!stopped_) {
      draw(e.allowed_rate());
      timer_.expires_after(redraw_interval);
      boost::system::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  // The last frame, left on screen above whatever is written next.
  void finish(double allowed_rate) {
    if (stopped_) return;
    draw(allowed_rate);
    stop();
  }

 private:
  static std::vector<std::string> names_of(const std::vector<const resource_config*>& resources) {
    std::vector<std::string> names;
    for (const auto* r : resources) names.push_back(r->name);
    return names;
  }

  void draw(double allowed_rate) {
    model_.set_allowed_rate(allowed_rate);
    const auto size = size_of_terminal(STDERR_FILENO);
    // A line that fills the last column leaves the cursor where terminals
    // differ on what the next newline does: one column to spare.
    block_.show(
        render_progress(model_, std::chrono::steady_clock::now(), size.columns - 1, size.rows - 1));
  }

  void stop() {
    stopped_ = true;
    timer_.cancel();
    block_.stop();
    log_.set_sink(nullptr);
  }

  sync_progress model_;
  live_block block_;
  logger& log_;
  asio::steady_timer timer_;
  bool stopped_ = false;
};

asio::awaitable<void> sync_main(const config& cfg, std::vector<const resource_config*> selected,
                                sync::run_flags flags, db::store& store, logger& log,
                                live_progress* progress, int& status) {
  auto ex = co_await asio::this_coro::executor;
  try {
    co_await store.open();
  } catch (const std::exception& e) {
    log.error("database_unavailable", {{"schema", cfg.destination.schema}, {"error", e.what()}});
    status = exit_failed;
    co_return;
  }
  sync::engine engine(ex, cfg, store, log);
  if (progress) {
    engine.set_progress(&progress->sink());
    asio::co_spawn(ex, progress->keep_drawing(engine), asio::detached);
  }
  std::vector<run_outcome> outcomes;
  try {
    outcomes = co_await engine.run_all(std::move(selected), flags);
  } catch (...) {
    // The drawing stops before the engine it reads goes.
    if (progress) progress->finish(engine.allowed_rate());
    throw;
  }
  if (progress) progress->finish(engine.allowed_rate());
  status = exit_ok;
  for (const auto& o : outcomes)
    if (!o.ok) status = exit_failed;
}

int run_sync(const config& cfg, const options& o, logger& log) {
  auto selected = select_resources(cfg, o);
  if (!selected) return exit_config_error;
  asio::io_context ioc(1);
  db::store store(ioc.get_executor(), restsyncd::store_settings_for(cfg), &log);
  std::optional<live_progress> progress;
  if (show_progress(o.progress.value_or(progress_mode::automatic), stderr_facts()))
    progress.emplace(ioc, *selected, log);
  int status = exit_failed;
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    // Pages already handed to the store still commit whole; nothing else is
    // written, and the next sync picks up from the database.
    log.warn("stopping", {{"signal", sig}});
    status = exit_failed;
    ioc.stop();
  });
  asio::co_spawn(ioc,
                 sync_main(cfg, std::move(*selected), sync::run_flags{o.full_refresh, std::nullopt},
                           store, log, progress ? &*progress : nullptr, status),
                 [&](std::exception_ptr e) {
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       log.error("internal_error", {{"error", ex.what()}});
                     }
                     status = exit_failed;
                   }
                   signals.cancel();
                 });
  ioc.run();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  auto opts = parse_args(argc, argv);
  if (!opts) {
    usage(stderr);
    return exit_usage;
  }
  logger log(opts->level.value_or(log_level::info));
  config cfg;
  try {
    cfg = load_config(opts->config_file);
  } catch (const config_error& e) {
    for (const auto& m : e.messages()) std::fprintf(stderr, "%s\n", m.c_str());
    return exit_config_error;
  }
  log.set_secrets(cfg.secrets);
  if (opts->command == "check-config") {
    std::fputs(describe_plan(cfg).c_str(), stdout);
    return exit_ok;
  }
  if (opts->command == "status") return restsyncd::show_status(cfg, opts->json);
  if (opts->command == "run") {
    restsyncd::run_options ro{opts->config_file, opts->level};
    return restsyncd::run_daemon(ro, std::move(cfg), log);
  }
  if (!opts->level) log.set_level(cfg.log.level);
  restsyncd::warn_about_configuration(log, cfg);
  return run_sync(cfg, *opts, log);
}

// logfmt lines on stderr: `ts=… level=info resource=users event=page offset=50
// rows=50 ms=312`. Under journald each line starts with its `<N>` priority.
// Every value passes through the configuration's secret mask first
// (secret_set::mask: a short secret only where it is the whole value).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "restsync/config/secrets.hpp"

namespace restsync {

enum class log_level { debug, info, warning, error };

std::string_view to_string(log_level l);
std::optional<log_level> parse_log_level(std::string_view text);

struct log_field {
  std::string_view key;
  std::string value;

  log_field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  log_field(std::string_view k, std::string_view v) : key(k), value(v) {}
  log_field(std::string_view k, const char* v) : key(k), value(v) {}
  template <class Number, class = std::enable_if_t<std::is_arithmetic_v<Number>>>
  log_field(std::string_view k, Number n) : key(k), value(format_number(n)) {}

  // A field left out of the line when its value is empty.
  static log_field unless_empty(std::string_view k, std::string v) {
    log_field f(k, std::move(v));
    f.omit_if_empty = true;
    return f;
  }
  bool omit_if_empty = false;

 private:
  template <class Number>
  static std::string format_number(Number n) {
    if constexpr (std::is_same_v<Number, bool>)
      return n ? "true" : "false";
    else if constexpr (std::is_floating_point_v<Number>)
      return format_double(static_cast<double>(n));
    else
      return std::to_string(n);
  }
  static std::string format_double(double d);
};

// A logfmt value: bare when it is a plain token, else double-quoted with `"`,
// `\` and control characters escaped. Empty values are `""`.
void append_logfmt_value(std::string& out, std::string_view value);

// The whole line (without the newline), for tests and for logger.
std::string format_log_line(std::chrono::system_clock::time_point ts, log_level level,
                            std::string_view event, std::initializer_list<log_field> fields,
                            bool journald_prefix, const secret_set* secrets);

// Where a logger's lines go instead of its FILE*: a display that shares the
// terminal with them (live_block) writes them around its own lines.
class log_sink {
 public:
  // One whole line, its newline included; called under the logger's lock
  // from whichever thread logs.
  virtual void write_line(std::string_view line) = 0;

 protected:
  ~log_sink() = default;
};

// Safe to use from several threads (the store's report reconnects).
class logger {
 public:
  // journald: prefix lines with `<N>`; by default when JOURNAL_STREAM is set.
  explicit logger(log_level min = log_level::info, std::FILE* out = stderr,
                  std::optional<bool> journald = std::nullopt);

  void set_level(log_level l) { min_.store(l, std::memory_order_relaxed); }
  log_level level() const { return min_.load(std::memory_order_relaxed); }
  void set_secrets(secret_set s);
  // Secrets learnt while running (an OAuth2 token), masked as well; kept
  // when set_secrets replaces the configuration's.
  void set_runtime_secrets(secret_set s);
  // Lines go to sink instead of the FILE* until it is reset to null; the
  // sink must outlive its use here.
  void set_sink(log_sink* sink);
  bool enabled(log_level l) const { return l >= level(); }

  void log(log_level level, std::string_view event, std::initializer_list<log_field> fields);
  void debug(std::string_view event, std::initializer_list<log_field> f) {
    log(log_level::debug, event, f);
  }
  void info(std::string_view event, std::initializer_list<log_field> f) {
    log(log_level::info, event, f);
  }
  void warn(std::string_view event, std::initializer_list<log_field> f) {
    log(log_level::warning, event, f);
  }
  void error(std::string_view event, std::initializer_list<log_field> f) {
    log(log_level::error, event, f);
  }

 private:
  std::atomic<log_level> min_;
  std::FILE* out_;
  bool journald_;
  secret_set config_secrets_;
  secret_set runtime_secrets_;
  secret_set secrets_;  // both
  log_sink* sink_ = nullptr;
  std::mutex mu_;
};

// One warning (event=short_secret) when any secret is shorter than
// short_secret_length, as it may show inside other values; never the secret.
void warn_about_short_secrets(logger& log, const secret_set& secrets);

}  // namespace restsync

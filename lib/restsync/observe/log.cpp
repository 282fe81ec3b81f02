#include "restsync/observe/log.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstdlib>

namespace restsync {

std::string_view to_string(log_level l) {
  switch (l) {
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warning:
      return "warning";
    case log_level::error:
      return "error";
  }
  return "info";
}

std::optional<log_level> parse_log_level(std::string_view text) {
  if (text == "debug") return log_level::debug;
  if (text == "info") return log_level::info;
  if (text == "warning" || text == "warn") return log_level::warning;
  if (text == "error") return log_level::error;
  return std::nullopt;
}

std::string log_field::format_double(double d) { return fmt::format("{:.3f}", d); }

namespace {

// sd-daemon(3) priorities: err 3, warning 4, info 6, debug 7.
int journald_priority(log_level l) {
  switch (l) {
    case log_level::debug:
      return 7;
    case log_level::info:
      return 6;
    case log_level::warning:
      return 4;
    case log_level::error:
      return 3;
  }
  return 6;
}

bool bare(std::string_view v) {
  if (v.empty()) return false;
  for (unsigned char c : v)
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) return false;
  return true;
}

}  // namespace

void append_logfmt_value(std::string& out, std::string_view value) {
  if (bare(value)) {
    out += value;
    return;
  }
  out.push_back('"');
  for (unsigned char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f)
          out += fmt::format("\\u{:04x}", c);
        else
          out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

std::string format_log_line(std::chrono::system_clock::time_point ts, log_level level,
                            std::string_view event, std::initializer_list<log_field> fields,
                            bool journald_prefix, const secret_set* secrets) {
  std::string line;
  if (journald_prefix) line += fmt::format("<{}>", journald_priority(level));
  auto secs = std::chrono::floor<std::chrono::seconds>(ts);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(ts - secs).count();
  line += fmt::format("ts={:%Y-%m-%dT%H:%M:%S}.{:03d}Z level={} event=", secs, millis,
                      to_string(level));
  append_logfmt_value(line, event);
  for (const auto& f : fields) {
    if (f.omit_if_empty && f.value.empty()) continue;
    line.push_back(' ');
    line += f.key;
    line.push_back('=');
    if (secrets && !secrets->empty())
      append_logfmt_value(line, secrets->mask(f.value));
    else
      append_logfmt_value(line, f.value);
  }
  return line;
}

logger::logger(log_level min, std::FILE* out, std::optional<bool> journald)
    : min_(min),
      out_(out),
      journald_(journald.value_or(std::getenv("JOURNAL_STREAM") != nullptr)) {}

void logger::set_secrets(secret_set s) {
  std::lock_guard lock(mu_);
  config_secrets_ = std::move(s);
  secrets_ = config_secrets_;
  secrets_.add_all(runtime_secrets_);
}

void logger::set_runtime_secrets(secret_set s) {
  std::lock_guard lock(mu_);
  runtime_secrets_ = std::move(s);
  secrets_ = config_secrets_;
  secrets_.add_all(runtime_secrets_);
}

void logger::set_sink(log_sink* sink) {
  std::lock_guard lock(mu_);
  sink_ = sink;
}

void logger::log(log_level level, std::string_view event, std::initializer_list<log_field> fields) {
  if (!enabled(level)) return;
  std::lock_guard lock(mu_);
  auto line =
      format_log_line(std::chrono::system_clock::now(), level, event, fields, journald_, &secrets_);
  line.push_back('\n');
  if (sink_) {
    sink_->write_line(line);
    return;
  }
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

void warn_about_short_secrets(logger& log, const secret_set& secrets) {
  const std::size_t n = secrets.count_shorter_than(short_secret_length);
  if (n == 0) return;
  log.warn("short_secret",
           {{"secrets", n},
            {"min_length", short_secret_length},
            {"detail", fmt::format("a secret shorter than {} characters is masked only where a "
                                   "whole value is the secret; inside URLs and messages it may "
                                   "show. Use a longer one",
                                   short_secret_length)}});
}

}  // namespace restsync

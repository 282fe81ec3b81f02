#include "restsync/observe/live_block.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

namespace restsync {

std::optional<progress_mode> parse_progress_mode(std::string_view text) {
  if (text == "auto") return progress_mode::automatic;
  if (text == "always") return progress_mode::always;
  if (text == "never") return progress_mode::never;
  return std::nullopt;
}

output_facts stderr_facts() {
  output_facts f;
  f.terminal = ::isatty(STDERR_FILENO) == 1;
  if (const char* term = std::getenv("TERM")) f.term = term;
  f.under_systemd = std::getenv("INVOCATION_ID") != nullptr || std::getenv("JOURNAL_STREAM");
  return f;
}

bool show_progress(progress_mode mode, const output_facts& facts) {
  switch (mode) {
    case progress_mode::always:
      return true;
    case progress_mode::never:
      return false;
    case progress_mode::automatic:
      return facts.terminal && !facts.term.empty() && facts.term != "dumb" && !facts.under_systemd;
  }
  return false;
}

terminal_size size_of_terminal(int fd) {
  terminal_size size;
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0) {
    if (ws.ws_col > 0) size.columns = ws.ws_col;
    if (ws.ws_row > 0) size.rows = ws.ws_row;
  }
  return size;
}

live_block::live_block(std::FILE* out) : out_(out) {}

void live_block::redraw(std::string_view before) {
  // Back to the block's first line, then every line overwritten and the
  // rest of each cleared: the screen never shows the block half gone.
  std::string out;
  if (drawn_ > 0) out += fmt::format("\r\x1b[{}A", drawn_);
  if (!before.empty()) {
    if (before.back() == '\n') before.remove_suffix(1);
    out += before;
    out += "\x1b[K\n";
  }
  for (const auto& line : lines_) {
    out += line;
    out += "\x1b[K\n";
  }
  out += "\x1b[J";
  std::fwrite(out.data(), 1, out.size(), out_);
  std::fflush(out_);
  drawn_ = lines_.size();
}

void live_block::show(std::vector<std::string> lines) {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  lines_ = std::move(lines);
  redraw({});
}

void live_block::write_line(std::string_view line) {
  std::lock_guard lock(mu_);
  if (stopped_ || drawn_ == 0) {
    std::fwrite(line.data(), 1, line.size(), out_);
    std::fflush(out_);
    return;
  }
  redraw(line);
}

void live_block::stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
}

}  // namespace restsync

// A block of lines kept at the bottom of a terminal and redrawn in place
// (ANSI cursor movement), with the log's lines written above it so that
// neither tears the other; and when a terminal is one to draw it on.
#pragma once

#include <cstddef>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "restsync/observe/log.hpp"

namespace restsync {

// `restsyncd sync --progress`.
enum class progress_mode { automatic, always, never };

std::optional<progress_mode> parse_progress_mode(std::string_view text);

// What `auto` goes by: where stderr goes and who reads it.
struct output_facts {
  bool terminal = false;       // isatty
  std::string term;            // $TERM
  bool under_systemd = false;  // INVOCATION_ID or JOURNAL_STREAM is set: the journal reads it
};

// The facts of this process's stderr.
output_facts stderr_facts();

// always; never; auto: on a terminal that moves its cursor (TERM set and not
// `dumb`) outside systemd.
bool show_progress(progress_mode mode, const output_facts& facts);

struct terminal_size {
  std::size_t columns = 80;
  std::size_t rows = 24;
};

// fd's window size; 80x24 when it has none.
terminal_size size_of_terminal(int fd);

// Safe to use from several threads: the block is drawn from the event loop,
// log lines come from any thread.
class live_block final : public log_sink {
 public:
  explicit live_block(std::FILE* out);

  // Draws lines where the block drawn before was. Each line must fit in the
  // terminal's width, or the next frame misses the rows it wrapped onto.
  void show(std::vector<std::string> lines);
  // A log line: written where the block starts, the block drawn again below.
  void write_line(std::string_view line) override;
  // The block drawn last stays on screen; lines after it are written plain.
  void stop();

 private:
  // Over the block on screen: `before` (whole lines), then the block.
  void redraw(std::string_view before);

  std::FILE* out_;
  std::mutex mu_;
  std::vector<std::string> lines_;
  std::size_t drawn_ = 0;  // lines of the block on screen
  bool stopped_ = false;
};

}  // namespace restsync

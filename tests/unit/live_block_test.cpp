#include "restsync/observe/live_block.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

using namespace restsync;

namespace {

// What is written to a FILE*, read back as a string.
class captured {
 public:
  captured() : file_(open_memstream(&data_, &size_)) { REQUIRE(file_ != nullptr); }
  ~captured() {
    std::fclose(file_);
    std::free(data_);
  }
  captured(const captured&) = delete;
  captured& operator=(const captured&) = delete;

  std::FILE* file() { return file_; }
  // Everything written since the last take().
  std::string take() {
    std::fflush(file_);
    std::string all(data_, size_);
    auto out = all.substr(taken_);
    taken_ = all.size();
    return out;
  }

 private:
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t taken_ = 0;
  std::FILE* file_;
};

const std::string clear_line = "\x1b[K";
const std::string clear_below = "\x1b[J";

}  // namespace

TEST_CASE("a block is drawn, then redrawn over itself") {
  captured out;
  live_block block(out.file());
  block.show({"one", "two"});
  CHECK(out.take() == "one" + clear_line + "\n" + "two" + clear_line + "\n" + clear_below);
  block.show({"three"});
  CHECK(out.take() == "\r\x1b[2A" + std::string("three") + clear_line + "\n" + clear_below);
  block.show({});
  CHECK(out.take() == "\r\x1b[1A" + clear_below);
  block.show({"four"});
  CHECK(out.take() == "four" + clear_line + "\n" + clear_below);
}

TEST_CASE("a log line goes where the block was, and the block below it") {
  captured out;
  live_block block(out.file());
  block.show({"one", "two"});
  out.take();
  block.write_line("ts=x level=info event=summary\n");
  CHECK(out.take() == "\r\x1b[2A" + std::string("ts=x level=info event=summary") + clear_line +
                          "\n" + "one" + clear_line + "\n" + "two" + clear_line + "\n" +
                          clear_below);
}

TEST_CASE("before the first frame and after stop, log lines are written as they are") {
  captured out;
  live_block block(out.file());
  block.write_line("first\n");
  CHECK(out.take() == "first\n");
  block.show({"one"});
  block.stop();
  out.take();
  block.write_line("last\n");
  CHECK(out.take() == "last\n");
  // The frame drawn last stays: nothing erases it.
  block.show({"two"});
  CHECK(out.take().empty());
}

TEST_CASE("a logger with the block as its sink writes through it, and not to its file") {
  captured terminal, file;
  live_block block(terminal.file());
  logger log(log_level::info, file.file(), false);
  log.set_sink(&block);
  block.show({"one"});
  terminal.take();
  log.info("summary", {{"resource", "users"}});
  auto written = terminal.take();
  CHECK(written.rfind("\r\x1b[1Ats=", 0) == 0);
  CHECK(written.find(" level=info event=summary resource=users" + clear_line + "\none") !=
        std::string::npos);
  CHECK(file.take().empty());
  log.set_sink(nullptr);
  log.info("after", {});
  CHECK(terminal.take().empty());
  CHECK(file.take().find("event=after\n") != std::string::npos);
}

TEST_CASE("--progress takes auto, always or never") {
  CHECK(parse_progress_mode("auto") == progress_mode::automatic);
  CHECK(parse_progress_mode("always") == progress_mode::always);
  CHECK(parse_progress_mode("never") == progress_mode::never);
  CHECK_FALSE(parse_progress_mode("yes"));
  CHECK_FALSE(parse_progress_mode(""));
}

TEST_CASE("auto: a terminal that moves its cursor, outside systemd") {
  output_facts tty{true, "xterm-256color", false};
  CHECK(show_progress(progress_mode::automatic, tty));
  CHECK_FALSE(show_progress(progress_mode::never, tty));

  output_facts pipe{false, "xterm", false};
  CHECK_FALSE(show_progress(progress_mode::automatic, pipe));
  CHECK(show_progress(progress_mode::always, pipe));

  output_facts dumb{true, "dumb", false};
  CHECK_FALSE(show_progress(progress_mode::automatic, dumb));
  output_facts no_term{true, "", false};
  CHECK_FALSE(show_progress(progress_mode::automatic, no_term));
  output_facts journal{true, "xterm", true};
  CHECK_FALSE(show_progress(progress_mode::automatic, journal));
  CHECK(show_progress(progress_mode::always, journal));
}

TEST_CASE("a file that is not a terminal has the default size") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  auto size = size_of_terminal(fileno(f));
  CHECK(size.columns == 80);
  CHECK(size.rows == 24);
  std::fclose(f);
}

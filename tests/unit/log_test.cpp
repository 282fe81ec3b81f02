#include <doctest/doctest.h>

#include "restsync/log.hpp"

using namespace restsync;

namespace {
const auto epoch = std::chrono::system_clock::time_point{} + std::chrono::milliseconds(1'700'000'000'123);
}

TEST_CASE("log lines are logfmt with bare tokens and quoted values") {
  auto line = format_log_line(epoch, log_level::info, "page",
                              {{"resource", "campaigns"}, {"offset", 50}, {"ms", 312},
                               {"msg", "two words"}, {"empty", ""}, {"q", "say \"hi\"\n"}},
                              false, nullptr);
  CHECK(line ==
        "ts=2023-11-14T22:13:20.123Z level=info event=page resource=campaigns offset=50 ms=312 "
        "msg=\"two words\" empty=\"\" q=\"say \\\"hi\\\"\\n\"");
}

TEST_CASE("journald prefix carries the syslog priority") {
  CHECK(format_log_line(epoch, log_level::error, "x", {}, true, nullptr).rfind("<3>ts=", 0) == 0);
  CHECK(format_log_line(epoch, log_level::warning, "x", {}, true, nullptr).rfind("<4>", 0) == 0);
  CHECK(format_log_line(epoch, log_level::info, "x", {}, true, nullptr).rfind("<6>", 0) == 0);
  CHECK(format_log_line(epoch, log_level::debug, "x", {}, true, nullptr).rfind("<7>", 0) == 0);
}

TEST_CASE("secrets never reach a log line") {
  secret_set s;
  s.add("hunter2-key");
  auto line = format_log_line(epoch, log_level::error, "request_failed",
                              {{"url", "/v1/x?api_key=hunter2-key&limit=50"},
                               {"msg", "bad key hunter2-key"}},
                              false, &s);
  CHECK(line.find("hunter2-key") == std::string::npos);
  CHECK(line.find("api_key=***") != std::string::npos);
}

TEST_CASE("control characters and doubles") {
  auto line = format_log_line(epoch, log_level::info, "e", {{"c", "a\x01"}, {"s", 1.5}}, false, nullptr);
  CHECK(line.find("c=\"a\\u0001\"") != std::string::npos);
  CHECK(line.find("s=1.500") != std::string::npos);
  CHECK(parse_log_level("warn") == log_level::warning);
  CHECK_FALSE(parse_log_level("loud").has_value());
}

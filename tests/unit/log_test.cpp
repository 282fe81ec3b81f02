#include "restsync/observe/log.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>

using namespace restsync;

namespace {
const auto epoch =
    std::chrono::system_clock::time_point{} + std::chrono::milliseconds(1'700'000'000'123);
}

TEST_CASE("log lines are logfmt with bare tokens and quoted values") {
  auto line = format_log_line(epoch, log_level::info, "page",
                              {{"resource", "campaigns"},
                               {"offset", 50},
                               {"ms", 312},
                               {"msg", "two words"},
                               {"empty", ""},
                               {"q", "say \"hi\"\n"}},
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
  auto line = format_log_line(
      epoch, log_level::error, "request_failed",
      {{"url", "/v1/x?api_key=hunter2-key&limit=50"}, {"msg", "bad key hunter2-key"}}, false, &s);
  CHECK(line.find("hunter2-key") == std::string::npos);
  CHECK(line.find("api_key=***") != std::string::npos);
}

TEST_CASE("a short secret is masked only where it is a whole value") {
  secret_set s;
  s.add("ok");
  s.add("k");
  auto line = format_log_line(
      epoch, log_level::info, "summary",
      {{"status", "ok"}, {"key", "k"}, {"msg", "book keeping ok"}, {"url", "/v1/x?limit=50"}},
      false, &s);
  CHECK(line.find(" status=*** key=*** msg=\"book keeping ok\" url=\"/v1/x?limit=50\"") !=
        std::string::npos);
}

TEST_CASE("a secret of the threshold's length is masked inside other text too") {
  const std::string at_threshold(short_secret_length, 'q');
  const std::string below(short_secret_length - 1, 'z');
  secret_set s;
  s.add(at_threshold);
  s.add(below);
  s.add("ab");
  auto line = format_log_line(
      epoch, log_level::error, "e",
      {{"url", "/x?api_key=" + at_threshold + "&k=" + below}, {"whole", below}, {"tail", "cab"}},
      false, &s);
  CHECK(line.find(" url=\"/x?api_key=***&k=" + below + "\" whole=*** tail=cab") !=
        std::string::npos);
}

TEST_CASE("short secrets are counted, never shown") {
  secret_set s;
  s.add("zq");
  s.add("long-enough-secret");
  CHECK(s.count_shorter_than(short_secret_length) == 1);
  CHECK(s.count_shorter_than(1) == 0);

  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  logger log(log_level::info, out, false);
  log.set_secrets(s);
  warn_about_short_secrets(log, s);
  secret_set long_only;
  long_only.add("long-enough-secret");
  warn_about_short_secrets(log, long_only);
  std::rewind(out);
  std::string text;
  for (int c; (c = std::fgetc(out)) != EOF;) text.push_back(static_cast<char>(c));
  std::fclose(out);
  CHECK(text.find(" level=warning event=short_secret secrets=1 min_length=6 detail=") !=
        std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  CHECK(text.find("zq") == std::string::npos);
}

TEST_CASE("control characters and doubles") {
  auto line =
      format_log_line(epoch, log_level::info, "e", {{"c", "a\x01"}, {"s", 1.5}}, false, nullptr);
  CHECK(line.find("c=\"a\\u0001\"") != std::string::npos);
  CHECK(line.find("s=1.500") != std::string::npos);
  CHECK(parse_log_level("warn") == log_level::warning);
  CHECK_FALSE(parse_log_level("loud").has_value());
}

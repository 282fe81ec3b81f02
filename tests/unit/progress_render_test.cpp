#include "restsync/observe/progress_render.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace restsync;
using namespace std::chrono_literals;

namespace {

const auto t0 = progress_sink::clock::time_point{} + 1000h;
constexpr std::size_t wide = 200;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void pages(sync_progress& p, std::string_view resource, int n, std::int64_t per_page,
           std::optional<std::int64_t> total) {
  for (int i = 0; i < n; ++i) {
    p.request_sent(resource);
    p.page_stored(resource, per_page, total);
  }
}

// Three resources at 1 request/s: users half done of a known total, labels
// waiting out a 429, accounts not started.
sync_progress three_resources() {
  sync_progress p({"users", "labels", "accounts"});
  p.set_allowed_rate(1);
  p.run_started("users", t0);
  pages(p, "users", 2, 50, 200);
  p.run_started("labels", t0);
  pages(p, "labels", 1, 50, std::nullopt);
  p.request_sent("labels");
  p.wait_begun("labels", t0 + 12s + 2500ms, true);
  return p;
}

}  // namespace

TEST_CASE("a line for the sync, then one per resource, in the order given") {
  auto p = three_resources();
  auto lines = render_progress(p, t0 + 12s, wide);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "restsyncd sync: 0/3 done | gate 1 req/s, paused 2.5s for a 429 | 12s");
  CHECK(lines[1].rfind("  users ", 0) == 0);
  CHECK(lines[2].rfind("  labels ", 0) == 0);
  CHECK(lines[3] == "  accounts  queued");
}

TEST_CASE("a total reported: records of the total, pages and time left at the gate's rate") {
  auto p = three_resources();
  auto lines = render_progress(p, t0 + 12s, wide);
  // users: 2 pages left; it shares the gate page for page with labels and
  // accounts (of unknown size): 6 requests at 1/s, after the 429 pause's 2.5 s.
  CHECK(lines[1] ==
        "  users     running  pages 2  records 100/200  requests 2  ~2 pages left, ~9s");
}

TEST_CASE("a 429 wait with what is left of it") {
  auto p = three_resources();
  CHECK(render_progress(p, t0 + 12s, wide)[2] ==
        "  labels    waiting  pages 1  records      50  requests 2  429, waiting 2.5s");
  CHECK(contains(render_progress(p, t0 + 14s, wide)[2], "429, waiting 0.5s"));
  // The wait is over but its end not reported yet: nothing negative.
  CHECK(contains(render_progress(p, t0 + 20s, wide)[2], "429, waiting 0.0s"));
  p.wait_ended("labels");
  auto lines = render_progress(p, t0 + 15s, wide);
  CHECK(contains(lines[2], "labels    running"));
  CHECK(contains(lines[2], "for 15s"));
  CHECK_FALSE(contains(lines[0], "paused"));
}

TEST_CASE("a retry after an error says so, and pauses nothing") {
  sync_progress p({"users"});
  p.set_allowed_rate(1);
  p.run_started("users", t0);
  p.request_sent("users");
  p.wait_begun("users", t0 + 4s, false);
  auto lines = render_progress(p, t0 + 1s, wide);
  CHECK(contains(lines[1], "waiting  pages 0  records 0  requests 1  retry in 3.0s"));
  CHECK_FALSE(contains(lines[0], "paused"));
}

TEST_CASE("a failed resource is counted and says how long it ran") {
  auto p = three_resources();
  p.run_finished("labels", false, t0 + 20s);
  p.run_started("accounts", t0 + 1s);
  pages(p, "accounts", 1, 3, std::nullopt);
  p.run_finished("accounts", true, t0 + 2s);
  auto lines = render_progress(p, t0 + 21s, wide);
  CHECK(contains(lines[0], "restsyncd sync: 1/3 done, 1 failed | gate 1 req/s | 21s"));
  CHECK(contains(lines[2], "labels    failed   pages 1"));
  CHECK(contains(lines[2], "after 20s"));
  CHECK(contains(lines[3], "accounts  done     pages 1"));
  CHECK(contains(lines[3], "in 1s"));
}

TEST_CASE("the whole sync's time left once every unfinished run has a total") {
  auto p = three_resources();
  p.run_finished("labels", true, t0 + 13s);
  p.run_started("accounts", t0 + 13s);
  pages(p, "accounts", 1, 10, 30);
  auto lines = render_progress(p, t0 + 13s, wide);
  // users 2 pages, accounts 2 pages: 4 at 1 request/s.
  CHECK(contains(lines[0], "| 13s | ~4 pages left, ~4s"));
}

TEST_CASE("no limit at the gate: pages left, no time") {
  sync_progress p({"users"});
  p.run_started("users", t0);
  pages(p, "users", 1, 50, 100);
  auto lines = render_progress(p, t0, wide);
  CHECK(contains(lines[0], "gate: no limit"));
  CHECK(contains(lines[1], "~1 page left"));
  CHECK_FALSE(contains(lines[1], "~1 page left,"));
}

TEST_CASE("every line is cut to the width") {
  auto p = three_resources();
  for (std::size_t width : {0, 1, 10, 40, 79}) {
    CAPTURE(width);
    auto lines = render_progress(p, t0 + 12s, width);
    REQUIRE(lines.size() == 4);
    for (const auto& line : lines) CHECK(line.size() <= width);
    const std::string whole =
        "restsyncd sync: 0/3 done | gate 1 req/s, paused 2.5s for a 429 | 12s";
    CHECK(lines[0] == whole.substr(0, width));
  }
}

TEST_CASE("the width counts characters, not bytes, and never splits one") {
  CHECK(cut_to_width("abc", 2) == "ab");
  CHECK(cut_to_width("abc", 5) == "abc");
  CHECK(cut_to_width("\xc3\xa9t\xc3\xa9", 2) == "\xc3\xa9t");
  CHECK(cut_to_width("\xc3\xa9t\xc3\xa9", 3) == "\xc3\xa9t\xc3\xa9");
  CHECK(cut_to_width("\xf0\x9f\x98\x80x", 1) == "\xf0\x9f\x98\x80");

  sync_progress p({"caf\xc3\xa9", "ab"});
  auto lines = render_progress(p, t0, wide);
  // Names padded by characters: the state column lines up.
  CHECK(lines[1] == "  caf\xc3\xa9  queued");
  CHECK(lines[2] == "  ab    queued");
}

TEST_CASE("a name with control characters cannot move the cursor") {
  sync_progress p({"a\x1b[2Jb"});
  auto lines = render_progress(p, t0, wide);
  CHECK(lines[1] == "  a?[2Jb  queued");
}

TEST_CASE("more resources than lines: the last line counts those left out") {
  auto p = three_resources();
  auto lines = render_progress(p, t0 + 12s, wide, 3);
  REQUIRE(lines.size() == 3);
  CHECK(lines[1].rfind("  users ", 0) == 0);
  CHECK(lines[2] == "  ... and 2 more");
  CHECK(render_progress(p, t0, wide, 4).size() == 4);
  CHECK(render_progress(p, t0, wide, 1).size() == 1);
  CHECK(render_progress(p, t0, wide, 0).empty());
}

#include "restsync/observe/progress_render.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "restsync/observe/status_report.hpp"

namespace restsync {

namespace {

using clock = progress_sink::clock;

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

std::size_t columns(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !continuation(c); }));
}

// A name from the configuration, with no byte that would move the cursor.
std::string printable(std::string_view name) {
  std::string out(name);
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

std::string padded(std::string text, std::size_t width) {
  const auto n = columns(text);
  if (n < width) text.append(width - n, ' ');
  return text;
}

double seconds_between(clock::time_point from, clock::time_point to) {
  return std::max(0.0, std::chrono::duration<double>(to - from).count());
}

// Tenths below ten seconds, where a 429's wait lives.
std::string wait_text(clock::time_point now, clock::time_point until) {
  const double s = seconds_between(now, until);
  return s < 10 ? fmt::format("{:.1f}s", s) : format_age(s);
}

std::string left_text(const progress_estimate& e) {
  auto text = fmt::format("~{} page{} left", e.pages_left, e.pages_left == 1 ? "" : "s");
  if (e.time_left) text += ", ~" + format_age(std::chrono::duration<double>(*e.time_left).count());
  return text;
}

std::string header(const sync_progress& p, clock::time_point now) {
  const auto& rs = p.resources();
  const auto done = std::count_if(
      rs.begin(), rs.end(), [](const resource_progress& r) { return r.state == run_state::done; });
  const auto failed = std::count_if(rs.begin(), rs.end(), [](const resource_progress& r) {
    return r.state == run_state::failed;
  });
  auto line = fmt::format("restsyncd sync: {}/{} done", done, rs.size());
  if (failed > 0) line += fmt::format(", {} failed", failed);
  line += p.allowed_rate() > 0 ? fmt::format(" | gate {:.3g} req/s", p.allowed_rate())
                               : std::string(" | gate: no limit");
  if (auto pause = p.paused_until(now))
    line += fmt::format(", paused {} for a 429", wait_text(now, *pause));
  if (auto started = p.started()) line += " | " + format_age(seconds_between(*started, now));
  if (auto left = p.estimate_all(now)) line += " | " + left_text(*left);
  return line;
}

std::string tail(const sync_progress& p, std::size_t i, clock::time_point now) {
  const auto& r = p.resources()[i];
  switch (r.state) {
    case run_state::queued:
      return {};
    case run_state::waiting:
      return r.rate_limited ? "429, waiting " + wait_text(now, r.wait_until)
                            : "retry in " + wait_text(now, r.wait_until);
    case run_state::running:
      if (auto e = p.estimate(i, now)) return left_text(*e);
      return r.started ? "for " + format_age(seconds_between(*r.started, now)) : std::string();
    case run_state::done:
    case run_state::failed:
      if (!r.started || !r.finished) return {};
      return (r.state == run_state::done ? "in " : "after ") +
             format_age(seconds_between(*r.started, *r.finished));
  }
  return {};
}

}  // namespace

std::string cut_to_width(std::string_view text, std::size_t width) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (continuation(static_cast<unsigned char>(text[i]))) continue;
    if (seen == width) return std::string(text.substr(0, i));
    ++seen;
  }
  return std::string(text);
}

std::vector<std::string> render_progress(const sync_progress& p, clock::time_point now,
                                         std::size_t width, std::size_t max_lines) {
  std::vector<std::string> lines;
  if (max_lines == 0) return lines;
  lines.push_back(cut_to_width(header(p, now), width));
  const auto& rs = p.resources();
  // Each count is a column, right-aligned, so that a line's numbers keep
  // their place from one frame to the next.
  std::size_t name_w = 0, pages_w = 0, records_w = 0, requests_w = 0;
  std::vector<std::string> records(rs.size());
  for (std::size_t i = 0; i < rs.size(); ++i) {
    const auto& r = rs[i];
    records[i] = r.total ? fmt::format("{}/{}", r.records, *r.total) : std::to_string(r.records);
    name_w = std::max(name_w, columns(printable(r.name)));
    pages_w = std::max(pages_w, std::to_string(r.pages).size());
    records_w = std::max(records_w, records[i].size());
    requests_w = std::max(requests_w, std::to_string(r.requests).size());
  }
  // Resources beyond the lines there are make the last line a count.
  const std::size_t room = max_lines - 1;
  const bool cut = rs.size() > room && room > 0;
  const std::size_t shown = rs.size() <= room ? rs.size() : (cut ? room - 1 : 0);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& r = rs[i];
    auto line = "  " + padded(printable(r.name), name_w) + "  " +
                padded(std::string(to_string(r.state)), 7);
    if (r.state != run_state::queued) {
      line += fmt::format("  pages {:>{}}  records {:>{}}  requests {:>{}}", r.pages, pages_w,
                          records[i], records_w, r.requests, requests_w);
      if (auto t = tail(p, i, now); !t.empty()) line += "  " + t;
    }
    // No trailing blanks where a queued line ends in its padded state.
    while (!line.empty() && line.back() == ' ') line.pop_back();
    lines.push_back(cut_to_width(line, width));
  }
  if (cut)
    lines.push_back(cut_to_width(fmt::format("  ... and {} more", rs.size() - shown), width));
  return lines;
}

}  // namespace restsync

#include "restsync/observe/run_ledger.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace restsync {

using std::chrono::milliseconds;

void run_ledger::configure(const config& cfg) {
  std::vector<resource_record> next;
  next.reserve(cfg.resources.size());
  for (const auto& rc : cfg.resources) {
    resource_record r;
    if (auto* old = find_mut(rc.name)) r = std::move(*old);
    r.name = rc.name;
    if (r.max_age != rc.max_age) r.stale_reported = false;
    r.max_age = rc.max_age;
    next.push_back(std::move(r));
  }
  resources_ = std::move(next);
}

void run_ledger::remember_success(const std::string& name, wall_clock::time_point at) {
  if (auto* r = find_mut(name); r && (!r->last_success || *r->last_success < at))
    r->last_success = at;
}

void run_ledger::started(const std::string& name) {
  if (auto* r = find_mut(name)) r->running = true;
}

void run_ledger::finished(const std::string& name, const run_outcome& outcome,
                          wall_clock::time_point now) {
  auto* r = find_mut(name);
  if (!r) return;  // removed by a reload while it ran
  r->running = false;
  r->last_finish = now;
  r->last = outcome;
  if (outcome.ok) {
    r->last_success = now;
    r->consecutive_failures = 0;
    r->stale_reported = false;
    ++r->runs_succeeded;
  } else {
    ++r->consecutive_failures;
    ++r->runs_failed;
  }
  r->totals += outcome.counts;
}

milliseconds run_ledger::age(const resource_record& r, wall_clock::time_point now) const {
  return std::chrono::duration_cast<milliseconds>(now - r.last_success.value_or(started_at_));
}

bool run_ledger::stale(const resource_record& r, wall_clock::time_point now) const {
  return r.max_age && age(r, now) > *r.max_age;
}

std::vector<stale_resource> run_ledger::take_newly_stale(wall_clock::time_point now) {
  std::vector<stale_resource> out;
  for (auto& r : resources_) {
    if (r.stale_reported || !stale(r, now)) continue;
    r.stale_reported = true;
    out.push_back({r.name, age(r, now), *r.max_age, !r.last_success});
  }
  return out;
}

std::optional<wall_clock::time_point> run_ledger::next_stale_at() const {
  std::optional<wall_clock::time_point> first;
  for (const auto& r : resources_) {
    if (!r.max_age || r.stale_reported) continue;
    // Strictly older than max_age is stale, so the check falls just after.
    auto at = r.last_success.value_or(started_at_) + *r.max_age + milliseconds(1);
    if (!first || at < *first) first = at;
  }
  return first;
}

std::string run_ledger::status_line(wall_clock::time_point now) const {
  int ok = 0, waiting = 0, running = 0, stale_count = 0;
  std::vector<std::string> failing;
  for (const auto& r : resources_) {
    if (r.running) ++running;
    if (stale(r, now)) ++stale_count;
    if (!r.last)
      ++waiting;
    else if (r.last->ok)
      ++ok;
    else
      failing.push_back(r.name);
  }
  std::string line =
      fmt::format("{} resource{}: {} ok", resources_.size(), resources_.size() == 1 ? "" : "s", ok);
  if (!failing.empty()) {
    constexpr std::size_t named = 3;
    std::string names;
    for (std::size_t i = 0; i < failing.size() && i < named; ++i)
      names += (i ? ", " : "") + failing[i];
    if (failing.size() > named) names += fmt::format(" and {} more", failing.size() - named);
    line += fmt::format(", {} failing ({})", failing.size(), names);
  }
  if (waiting) line += fmt::format(", {} not run yet", waiting);
  if (running) line += fmt::format("; {} running", running);
  if (stale_count) line += fmt::format("; {} older than max_age", stale_count);
  return line;
}

const resource_record* run_ledger::find(const std::string& name) const {
  auto it = std::find_if(resources_.begin(), resources_.end(),
                         [&](const resource_record& r) { return r.name == name; });
  return it == resources_.end() ? nullptr : &*it;
}

resource_record* run_ledger::find_mut(const std::string& name) {
  return const_cast<resource_record*>(std::as_const(*this).find(name));
}

}  // namespace restsync

#include "restsync/observe/sync_progress.hpp"

#include <algorithm>
#include <cmath>

namespace restsync {

std::string_view to_string(run_state s) {
  switch (s) {
    case run_state::queued:
      return "queued";
    case run_state::running:
      return "running";
    case run_state::waiting:
      return "waiting";
    case run_state::done:
      return "done";
    case run_state::failed:
      return "failed";
  }
  return "running";
}

namespace {

resource_progress named(std::string name) {
  resource_progress r;
  r.name = std::move(name);
  return r;
}

bool ended(const resource_progress& r) {
  return r.state == run_state::done || r.state == run_state::failed;
}

}  // namespace

sync_progress::sync_progress(const std::vector<std::string>& resources) {
  for (const auto& name : resources) resources_.push_back(named(name));
}

resource_progress& sync_progress::at(std::string_view name) {
  auto it = std::find_if(resources_.begin(), resources_.end(),
                         [&](const resource_progress& r) { return r.name == name; });
  if (it != resources_.end()) return *it;
  return resources_.emplace_back(named(std::string(name)));
}

void sync_progress::run_started(std::string_view resource, clock::time_point now) {
  auto& r = at(resource);
  r = named(std::move(r.name));
  r.state = run_state::running;
  r.started = now;
}

void sync_progress::request_sent(std::string_view resource) { ++at(resource).requests; }

void sync_progress::page_stored(std::string_view resource, std::int64_t records,
                                std::optional<std::int64_t> total) {
  auto& r = at(resource);
  ++r.pages;
  r.records += records;
  if (total) r.total = total;
}

void sync_progress::wait_begun(std::string_view resource, clock::time_point until,
                               bool rate_limited) {
  auto& r = at(resource);
  if (r.waits == 0 || until >= r.wait_until) {
    r.wait_until = until;
    r.rate_limited = rate_limited;
  }
  ++r.waits;
  if (!ended(r)) r.state = run_state::waiting;
}

void sync_progress::wait_ended(std::string_view resource) {
  auto& r = at(resource);
  if (r.waits > 0) --r.waits;
  if (r.waits == 0 && r.state == run_state::waiting) r.state = run_state::running;
}

void sync_progress::run_finished(std::string_view resource, bool ok, clock::time_point now) {
  auto& r = at(resource);
  r.state = ok ? run_state::done : run_state::failed;
  r.finished = now;
  r.waits = 0;
}

std::optional<progress_sink::clock::time_point> sync_progress::started() const {
  std::optional<clock::time_point> first;
  for (const auto& r : resources_)
    if (r.started && (!first || *r.started < *first)) first = r.started;
  return first;
}

std::optional<progress_sink::clock::time_point> sync_progress::paused_until(
    clock::time_point now) const {
  std::optional<clock::time_point> until;
  for (const auto& r : resources_)
    if (r.waits > 0 && r.rate_limited && r.wait_until > now && (!until || r.wait_until > *until))
      until = r.wait_until;
  return until;
}

// The records left over the records a page has held so far on average.
std::optional<std::int64_t> sync_progress::pages_left(const resource_progress& r) const {
  if (!r.total || r.pages == 0 || r.records == 0) return std::nullopt;
  const double per_page = static_cast<double>(r.records) / static_cast<double>(r.pages);
  const auto records_left = std::max<std::int64_t>(0, *r.total - r.records);
  return static_cast<std::int64_t>(std::ceil(static_cast<double>(records_left) / per_page));
}

std::optional<std::chrono::milliseconds> sync_progress::at_rate(double pages,
                                                                clock::time_point now) const {
  if (rate_ <= 0) return std::nullopt;
  auto left = std::chrono::milliseconds(std::llround(pages / rate_ * 1000));
  if (auto pause = paused_until(now))
    left += std::chrono::ceil<std::chrono::milliseconds>(*pause - now);
  return left;
}

std::optional<progress_estimate> sync_progress::estimate(std::size_t i,
                                                         clock::time_point now) const {
  const auto& r = resources_.at(i);
  if (ended(r)) return std::nullopt;
  const auto mine = pages_left(r);
  if (!mine) return std::nullopt;
  // Round-robin: until this run ends, every other one that is still going
  // gets as many requests as it has pages left, up to as many as this one.
  double shared = 0;
  for (std::size_t j = 0; j < resources_.size(); ++j) {
    if (ended(resources_[j])) continue;
    auto theirs = j == i ? mine : pages_left(resources_[j]);
    shared += static_cast<double>(theirs ? std::min(*theirs, *mine) : *mine);
  }
  return progress_estimate{*mine, at_rate(shared, now)};
}

std::optional<progress_estimate> sync_progress::estimate_all(clock::time_point now) const {
  std::int64_t pages = 0;
  bool any = false;
  for (const auto& r : resources_) {
    if (ended(r)) continue;
    auto left = pages_left(r);
    if (!left) return std::nullopt;
    pages += *left;
    any = true;
  }
  if (!any) return std::nullopt;
  return progress_estimate{pages, at_rate(static_cast<double>(pages), now)};
}

}  // namespace restsync

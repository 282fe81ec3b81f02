#include "restsync/paging/offset_scan.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace restsync {

offset_scan::offset_scan(const offset_scan_settings& settings)
    : start_(settings.start),
      limit_(settings.limit),
      window_(settings.window),
      maximum_offset_(settings.maximum_offset),
      known_page_(settings.known_page),
      short_page_ends_(settings.short_page_ends),
      max_seen_end_(settings.start) {
  if (start_ < 0) throw std::invalid_argument("offset_scan: start must be >= 0");
  if (limit_ < 1) throw std::invalid_argument("offset_scan: limit must be >= 1");
  if (window_ < 1) throw std::invalid_argument("offset_scan: window must be >= 1");
  update_complete();
}

std::optional<std::int64_t> offset_scan::next_request() {
  if (done() || in_flight_.size() >= window_) return std::nullopt;
  if (!started_) {
    started_ = true;
    return issue(start_);
  }
  // Speculating needs a step, and only the first answer teaches it.
  if (!step_) return std::nullopt;
  if (auto hole = next_hole()) {
    if (*hole < max_seen_end_) ++stats_.refills;
    return issue(*hole);
  }
  // The furthest page came back short and nothing proves it was capped: it is
  // most likely the last one, and its end (a hole, above) is all worth asking.
  if (!short_pages_.empty()) return std::nullopt;
  // An empty answer past every record seen bounds the data: what is left is
  // holes below it, and guessing inside the bound is how requests land past
  // the real end.
  if (empties_.lower_bound(max_seen_end_) != empties_.end()) return std::nullopt;
  if (auto spec = next_speculative()) return issue(*spec);
  return std::nullopt;
}

void offset_scan::on_page(std::int64_t offset, std::int64_t count,
                          std::optional<std::int64_t> total) {
  if (count < 0 || count > std::numeric_limits<std::int64_t>::max() - offset) {
    throw std::logic_error("offset_scan: record count out of range");
  }
  if (in_flight_.erase(offset) == 0) {
    throw std::logic_error("offset_scan: page for offset " + std::to_string(offset) +
                           " that is not in flight");
  }
  const std::int64_t end = offset + count;
  if (done()) {
    ++stats_.late_answers;
    if (complete_) {
      const auto past = std::max<std::int64_t>(0, end - std::max(offset, contiguous_end()));
      drift_.records_after_end += past;
      // Records past a soft end: the short page it rested on was capped.
      if (soft_end_ && past > 0) drift_.page_sizes_vary = true;
    }
    return;
  }

  ++stats_.pages;
  stats_.records += count;
  if (total) {
    if (last_total_ && *last_total_ != *total) drift_.total_changed = true;
    last_total_ = total;
    total_ = std::max(total_.value_or(*total), *total);
  }

  if (count == 0) {
    ++stats_.empty_pages;
    empties_.insert(offset);
  } else {
    stats_.overlap_records += add_coverage(offset, end);
    // The first page is short against the limit (unless it is the size
    // an earlier scan proved the server serves), later ones against the step.
    if (!step_ && known_page_ && count == *known_page_) {
      cap_seen_ = true;
    } else if (count < step_.value_or(limit_)) {
      short_pages_.emplace(end, count);
    }
    if (!step_) {
      step_ = count;
      spec_next_ = end;
    }
    max_seen_end_ = std::max(max_seen_end_, end);
    // Records past a short page's end prove the server capped that page.
    bool proven = false;
    for (auto it = short_pages_.begin(); it != short_pages_.end() && it->first < max_seen_end_;) {
      // Capped below a page already served: sizes vary within the scan.
      if (it->second < max_page_) drift_.page_sizes_vary = true;
      step_ = std::min(*step_, it->second);
      proven = true;
      cap_seen_ = true;
      it = short_pages_.erase(it);
    }
    max_page_ = std::max(max_page_, count);
    if (proven) {
      // Under the cap just proven, a page of that size at the frontier is full.
      std::erase_if(short_pages_, [&](const auto& e) { return e.second >= *step_; });
      // Offsets laid out at the old, larger step would leave holes between
      // them; lay them out again from the furthest record.
      spec_next_ = std::min(spec_next_, max_seen_end_);
    }
  }

  if (!empties_.empty() && *empties_.begin() < max_seen_end_) drift_.records_past_empty = true;
  if (total_ && max_seen_end_ > *total_) drift_.records_past_total = true;
  if (total_ && !empties_.empty() && *empties_.begin() < *total_) drift_.empty_below_total = true;
  update_complete();
}

void offset_scan::on_failed(std::int64_t offset) {
  if (in_flight_.erase(offset) == 0) {
    throw std::logic_error("offset_scan: failure for offset " + std::to_string(offset) +
                           " that is not in flight");
  }
  if (done()) {
    ++stats_.late_answers;
    return;
  }
  failed_offset_ = offset;
}

void offset_scan::confirm_end() {
  if (!complete_ || !soft_end_ || !in_flight_.empty())
    throw std::logic_error(
        "offset_scan: confirm_end without a soft end, or with requests in flight");
  complete_ = false;
  soft_end_ = false;
  short_page_ends_ = false;
}

std::int64_t offset_scan::contiguous_end() const {
  // Nothing is covered below start_, so the prefix is the stretch beginning there.
  auto it = covered_.find(start_);
  return it == covered_.end() ? start_ : it->second;
}

bool offset_scan::withdraw_if_unneeded(std::int64_t offset) {
  if (!in_flight_.contains(offset)) {
    throw std::logic_error("offset_scan: withdrawal of offset " + std::to_string(offset) +
                           " that is not in flight");
  }
  const auto end = known_end();
  // Past the end of a short page that waits for its end's answer: most
  // likely past the data; issued again should that answer prove a cap.
  const bool past_short = !short_pages_.empty() && offset > short_pages_.rbegin()->first;
  if (!done() && !(end && offset >= *end) && !past_short) return false;
  in_flight_.erase(offset);
  requested_.erase(offset);
  ++stats_.withdrawn;
  return true;
}

std::optional<std::int64_t> offset_scan::known_end() const {
  std::optional<std::int64_t> end = maximum_offset_;
  auto lower = [&](std::optional<std::int64_t> v) {
    if (v && (!end || *v < *end)) end = v;
  };
  lower(valid_total());
  lower(short_page_end());
  // An empty answer below records already seen is drift, not an end.
  if (auto it = empties_.lower_bound(max_seen_end_); it != empties_.end()) lower(*it);
  return end;
}

bool offset_scan::covers(std::int64_t position) const {
  auto it = covered_.upper_bound(position);
  if (it == covered_.begin()) return false;
  --it;
  return position < it->second;
}

std::optional<std::int64_t> offset_scan::proven_page() const {
  if (drift_.page_sizes_vary || !step_) return std::nullopt;
  if (max_page_ >= limit_) return limit_;
  if (cap_seen_) return step_;
  return std::nullopt;
}

std::optional<std::int64_t> offset_scan::short_page_end() const {
  if (!short_page_ends_ || drift_.page_sizes_vary) return std::nullopt;
  // Short pages still waiting all end at or past every record seen.
  for (const auto& [end, count] : short_pages_) {
    if (count >= max_page_) continue;
    // A total the records do not contradict says more exist: the scan goes
    // on to it (and an empty page below it is drift).
    if (auto total = valid_total(); total && end < *total) return std::nullopt;
    return end;
  }
  return std::nullopt;
}

std::optional<std::int64_t> offset_scan::valid_total() const {
  if (total_ && *total_ >= max_seen_end_) return total_;
  return std::nullopt;
}

std::optional<std::int64_t> offset_scan::next_hole() const {
  const auto end = known_end();
  auto candidate = [&](std::int64_t p) {
    if (end && p >= *end) return false;
    if (requested_.contains(p)) return false;
    // A request in flight below p may still cover it; asking again now would
    // most likely only duplicate its answer.
    auto it = in_flight_.lower_bound(p);
    if (it != in_flight_.begin() && *std::prev(it) + max_page_ > p) return false;
    return true;
  };
  // Coverage never starts below start_, so start_ is uncovered exactly when
  // no stretch begins there.
  if (!covers(start_) && candidate(start_)) return start_;
  for (const auto& [begin, stretch_end] : covered_) {
    if (end && stretch_end >= *end) break;
    if (candidate(stretch_end)) return stretch_end;
  }
  return std::nullopt;
}

std::optional<std::int64_t> offset_scan::next_speculative() {
  const auto end = known_end();
  std::int64_t s = spec_next_;
  for (;;) {
    if (end && s >= *end) return std::nullopt;
    if (auto it = covered_.upper_bound(s); it != covered_.begin() && s < std::prev(it)->second) {
      s = std::prev(it)->second;
    } else if (requested_.contains(s)) {
      s += *step_;
    } else {
      break;
    }
  }
  spec_next_ = s + *step_;
  return s;
}

std::int64_t offset_scan::add_coverage(std::int64_t begin, std::int64_t end) {
  std::int64_t overlap = 0;
  auto it = covered_.upper_bound(begin);
  if (it != covered_.begin() && std::prev(it)->second >= begin) --it;
  std::int64_t new_begin = begin;
  std::int64_t new_end = end;
  while (it != covered_.end() && it->first <= end) {
    overlap += std::max<std::int64_t>(0, std::min(end, it->second) - std::max(begin, it->first));
    new_begin = std::min(new_begin, it->first);
    new_end = std::max(new_end, it->second);
    it = covered_.erase(it);
  }
  covered_.emplace(new_begin, new_end);
  return overlap;
}

void offset_scan::update_complete() {
  if (failed()) return;
  const std::int64_t c = contiguous_end();
  if ((maximum_offset_ && c >= *maximum_offset_) || empties_.contains(c)) {
    complete_ = true;
    return;
  }
  if (auto total = valid_total(); total && c >= *total) {
    complete_ = true;
    return;
  }
  if (auto end = short_page_end(); end && c >= *end) {
    complete_ = true;
    soft_end_ = true;
  }
}

std::int64_t offset_scan::issue(std::int64_t offset) {
  requested_.insert(offset);
  in_flight_.insert(offset);
  ++stats_.requests;
  return offset;
}

}  // namespace restsync

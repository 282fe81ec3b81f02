#include "restsync/incremental/cursor_advance.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <utility>

#include "restsync/paging/json_path.hpp"

namespace restsync {

cursor_advance::cursor_advance(const incremental_config& inc, incremental_window window,
                               std::string_view resource)
    : inc_(inc), window_(std::move(window)), resource_(resource) {}

std::variant<page_filter, std::string> cursor_advance::filter(
    std::span<const rapidjson::Value* const> records, std::string_view where, const key_text& key) {
  page_filter f;
  f.skip.assign(records.size(), 0);
  const auto& start = window_.start;
  const auto& end = window_.end;
  bool any_older = false;
  for (size_t i = 0; i < records.size(); ++i) {
    const auto* v = find_path(*records[i], inc_.cursor_path);
    if (v == nullptr || v->IsNull()) {
      switch (inc_.on_cursor_value_missing) {
        case missing_cursor_action::raise:
          return fmt::format(
              "{}: record {} of {} (key {}) has no cursor value at {} (on_cursor_value_missing: "
              "raise)",
              resource_, i, where, key(*records[i]), to_string(inc_.cursor_path));
        case missing_cursor_action::include:
          break;
        case missing_cursor_action::exclude:
          f.skip[i] = 1;
          break;
      }
      continue;
    }
    auto c = parse_cursor_json(*v);
    if (!c) {
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      v->Accept(w);
      return fmt::format(
          "{}: record {} of {} (key {}): the cursor {} is {}, neither epoch seconds, epoch "
          "milliseconds nor an ISO-8601 date-time",
          resource_, i, where, key(*records[i]), to_string(inc_.cursor_path),
          std::string_view(buf.GetString(), buf.GetSize()));
    }
    const bool before = start && compare(*c, *start) < 0;
    const bool after = end && compare(*c, *end) >= 0;
    if (before) any_older = true;
    if (before || after) {
      f.skip[i] = 1;
      continue;
    }
    if (!max_seen_ || compare(*c, *max_seen_) > 0) max_seen_ = std::move(c);
  }
  f.reaches_start = any_older;
  return f;
}

std::optional<std::string> cursor_advance::page_cursor() const {
  if (inc_.order == row_order::asc && max_seen_) return max_seen_->text;
  return std::nullopt;
}

std::optional<std::string> cursor_advance::advanced(bool read_whole_window) const {
  if (!read_whole_window) return std::nullopt;
  auto best = max_seen_;
  const auto& previous = window_.previous;
  if (previous && (!best || compare(*previous, *best) > 0)) best = previous;
  if (best) return best->text;
  return std::nullopt;
}

std::optional<std::string> cursor_advance::after_run(bool read_whole_window) const {
  if (auto c = advanced(read_whole_window)) return c;
  if (window_.previous) return window_.previous->text;
  return std::nullopt;
}

}  // namespace restsync

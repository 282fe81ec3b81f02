// How an incremental run moves its cursor: which records of a page fall
// outside the window, the newest cursor among the records kept, the cursor
// an ascending scan may store with each page, and where the cursor stands
// after the run. Pure: records in, decisions out; the engine stores them.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "restsync/config/config.hpp"
#include "restsync/incremental/window.hpp"

namespace restsync {

// Which records of a page to leave out.
struct page_filter {
  std::vector<char> skip;  // 1: leave the record out
  // A record with a cursor is before the start: in a newest-first scan every
  // later page is older still, so this page is the last one worth reading.
  bool reaches_start = false;
};

class cursor_advance {
 public:
  // How a record is named in messages (its key).
  using key_text = std::function<std::string(const rapidjson::Value&)>;

  // inc and the resource's name must outlive this.
  cursor_advance(const incremental_config& inc, incremental_window window,
                 std::string_view resource);

  // Leaves out the records before the start or at or after the end, and
  // those without a cursor value when on_cursor_value_missing says exclude
  // (include keeps them). Notes the newest cursor among the records kept.
  // The message of the failure, naming where (`page 3 of the scan`), the
  // record's index and key, when a record has no cursor value and
  // on_cursor_value_missing is raise, or one that is not a timestamp.
  std::variant<page_filter, std::string> filter(std::span<const rapidjson::Value* const> records,
                                                std::string_view where, const key_text& key);

  // The cursor an ascending scan stores with the page just filtered: the
  // newest seen so far. Nothing for another order, or before any.
  std::optional<std::string> page_cursor() const;

  // The cursor after the run. It moves over what the run committed, never
  // back, and only when the run read its whole window (a complete scan, or
  // down to the start) with the data holding still: then the later of the
  // newest seen and the previous cursor. Otherwise the previous cursor stays.
  std::optional<std::string> advanced(bool read_whole_window) const;
  std::optional<std::string> after_run(bool read_whole_window) const;

  const incremental_window& window() const { return window_; }
  const std::optional<cursor_value>& max_seen() const { return max_seen_; }

 private:
  const incremental_config& inc_;
  incremental_window window_;
  std::string_view resource_;
  std::optional<cursor_value> max_seen_;  // the newest cursor among kept records
};

}  // namespace restsync

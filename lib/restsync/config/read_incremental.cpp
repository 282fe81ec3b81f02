// An endpoint's `incremental` section, or dlt's older form under `params`:
// the cursor field, the initial and end values, lag, row order and what a
// record without a cursor value means.
#include <fmt/format.h>

#include "restsync/config/reader.hpp"
#include "restsync/incremental/cursor.hpp"

namespace restsync::config_reader {

namespace {

constexpr std::string_view incremental_keys[] = {
    "cursor_path", "initial_value",           "end_value",   "lag",
    "row_order",   "on_cursor_value_missing", "start_param", "end_param"};
// dlt's older form: `params: {since: {type: incremental, cursor_path: …}}`.
constexpr std::string_view param_incremental_keys[] = {
    "type", "cursor_path", "initial_value",           "end_value",
    "lag",  "row_order",   "on_cursor_value_missing", "end_param"};
constexpr named<row_order> row_orders[] = {{"asc", row_order::asc}, {"desc", row_order::desc}};
constexpr named<missing_cursor_action> missing_cursor_actions[] = {
    {"raise", missing_cursor_action::raise},
    {"include", missing_cursor_action::include},
    {"exclude", missing_cursor_action::exclude}};

}  // namespace

std::optional<incremental_config> loader::read_incremental(const config_node& n, bool param_form) {
  if (!expect_map(n, "a map with at least `cursor_path`")) return std::nullopt;
  check_keys(n, param_form ? key_list(param_incremental_keys) : key_list(incremental_keys));
  incremental_config inc;
  bool ok = true;
  if (const auto* v =
          required(n, "cursor_path", "the record field that orders updates, such as `updatedAt`")) {
    auto p = json_path_value(*v);
    if (p && p->empty()) {
      fail(*v, "must name a field of the record, not the whole record `$`");
      ok = false;
    } else if (p) {
      inc.cursor_path = *p;
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  // Kept as written: the engine reads them again with parse_cursor_config.
  auto cursor_of = [this](const config_node* v,
                          std::optional<std::string>& into) -> std::optional<cursor_value> {
    if (v == nullptr) return std::nullopt;
    auto s = string_value(*v);
    if (!s) return std::nullopt;
    into = *s;
    auto c = parse_cursor_config(*s);
    if (!c) {
      fail(*v, fmt::format("expected a timestamp: epoch seconds, epoch milliseconds or an "
                           "ISO-8601 date-time such as 2024-01-01T00:00:00Z, found {}",
                           shown(*v)));
    }
    return c;
  };
  const config_node* initial_node = optional(n, "initial_value");
  const config_node* end_node = optional(n, "end_value");
  const auto initial = cursor_of(initial_node, inc.initial_value);
  const auto end = cursor_of(end_node, inc.end_value);
  if (initial && end && *end <= *initial) {
    fail(*end_node, fmt::format("{} is not later than initial_value {}; a back-fill runs from "
                                "initial_value up to end_value",
                                shown(*end_node), shown(*initial_node)));
  }
  if (const auto* v = optional(n, "lag")) {
    if (auto d = duration_value(*v, true)) inc.lag = *d;
  }
  if (const auto* v = optional(n, "row_order")) {
    if (auto c = choice(*v, row_orders)) inc.order = *c;
  }
  if (const auto* v = optional(n, "on_cursor_value_missing")) {
    if (auto c = choice(*v, missing_cursor_actions)) inc.on_cursor_value_missing = *c;
  }
  for (std::string_view key : {std::string_view("start_param"), std::string_view("end_param")}) {
    if (const auto* v = optional(n, key)) {
      if (auto s = param_name(*v)) (key == "start_param" ? inc.start_param : inc.end_param) = *s;
    }
  }
  if (!ok) return std::nullopt;
  return inc;
}

}  // namespace restsync::config_reader

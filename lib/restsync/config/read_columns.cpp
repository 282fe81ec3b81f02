// A resource's `columns`: dlt's column hints, by column name.
#include <fmt/format.h>

#include <algorithm>

#include "restsync/config/reader.hpp"
#include "restsync/store/naming.hpp"

namespace restsync::config_reader {

namespace {

constexpr std::string_view hint_keys[] = {"name",      "data_type", "nullable",
                                          "precision", "scale",     "primary_key"};
// dlt's other column hints: known, refused with a reason.
constexpr std::string_view dlt_only_keys[] = {
    "timezone",    "partition",  "cluster",     "sort",       "unique",
    "merge_key",   "row_key",    "parent_key",  "root_key",   "variant",
    "hard_delete", "dedup_sort", "incremental", "description"};
constexpr named<column_data_type> data_types[] = {
    {"text", column_data_type::text},           {"bigint", column_data_type::bigint},
    {"double", column_data_type::double_},      {"bool", column_data_type::bool_},
    {"timestamp", column_data_type::timestamp}, {"date", column_data_type::date},
    {"decimal", column_data_type::decimal},     {"json", column_data_type::json}};
// dlt's data types that restsync does not store, and what to use instead.
struct unported_type {
  std::string_view name;
  std::string_view instead;
};
constexpr unported_type unported_types[] = {
    {"complex", "`json` (dlt's newer name for it)"},
    {"binary", "`text` (a JSON API sends bytes as text, such as base64)"},
    {"time", "`text`"},
    {"wei", "`decimal`"}};

std::string_view dlt_only_reason(std::string_view key) {
  if (key == "timezone")
    return "restsync stores every timestamp as timestamptz (dlt's default, `timezone: true`)";
  if (key == "partition" || key == "cluster" || key == "sort")
    return "it shapes tables in warehouses that partition, cluster or sort; restsync's "
           "PostgreSQL tables are plain tables (add an index or partition them yourself)";
  if (key == "merge_key" || key == "dedup_sort" || key == "hard_delete")
    return "restsync merges on `primary_key` and marks deletions itself (see Deletions)";
  if (key == "incremental") return "use `endpoint.incremental` with `cursor_path`";
  if (key == "description") return "restsync keeps no column descriptions";
  return "it describes dlt's nested tables, which restsync does not make (nested values are "
         "stored as JSON)";
}

}  // namespace

std::vector<column_hint_config> loader::read_columns(const config_node& n) {
  std::vector<column_hint_config> out;
  if (!expect_map(n,
                  "a map of column name to its hints, such as `created_on: {data_type: "
                  "timestamp}`")) {
    return out;
  }
  for (std::size_t i = 0; i < n.keys.size(); ++i) {
    const auto& key = n.keys[i];
    const auto& v = n.items[i];
    if (v.kind == node_kind::null) continue;  // a resource's `x: ~` removes a default
    column_hint_config h;
    h.name = key.name;
    bool ok = true;
    const auto column = column_name(key.name);
    if (key.name.empty()) {
      fail(key.mark, v.path, "a column name is empty");
      ok = false;
    } else if (column != key.name) {
      fail(key.mark, v.path,
           fmt::format("`{}` is not a column name restsync makes: the naming rules (snake_case, "
                       "at most 63 bytes) turn a field `{}` into the column `{}`; name the "
                       "column as the table has it: `{}`",
                       key.name, key.name, column, column));
      ok = false;
    } else if (is_reserved_column(key.name) || key.name.find("__") != std::string::npos) {
      fail(key.mark, v.path,
           fmt::format("`{}` is a name no data column gets (restsync's own columns start with "
                       "`_rs_`, variant columns hold `__`, and PostgreSQL keeps its system "
                       "column names); hint a column that holds a field",
                       key.name));
      ok = false;
    }
    if (!expect_map(v, "a map of hints: data_type, nullable, precision, scale, primary_key")) {
      continue;
    }
    for (std::size_t k = 0; k < v.keys.size(); ++k) {
      const auto& hk = v.keys[k];
      if (std::find(std::begin(dlt_only_keys), std::end(dlt_only_keys), hk.name) ==
          std::end(dlt_only_keys))
        continue;
      fail(hk.mark, v.items[k].path,
           fmt::format("dlt's column hint `{}` has no meaning in restsync: {}; remove it", hk.name,
                       dlt_only_reason(hk.name)));
      ok = false;
    }
    std::vector<std::string_view> allowed(std::begin(hint_keys), std::end(hint_keys));
    allowed.insert(allowed.end(), std::begin(dlt_only_keys), std::end(dlt_only_keys));
    check_keys(v, allowed);
    if (const auto* x = optional(v, "name")) {
      if (auto s = string_value(*x); s && *s != key.name) {
        fail(*x, fmt::format("`{}` differs from the column's key `{}`; dlt's `name` must repeat "
                             "the key (or leave it out)",
                             *s, key.name));
        ok = false;
      }
    }
    const config_node* type_node = optional(v, "data_type");
    if (type_node != nullptr) {
      const auto* unported =
          type_node->kind == node_kind::scalar
              ? std::find_if(std::begin(unported_types), std::end(unported_types),
                             [&](const unported_type& u) { return u.name == type_node->scalar; })
              : std::end(unported_types);
      if (unported != std::end(unported_types)) {
        fail(*type_node, fmt::format("dlt's data_type `{}` is not one restsync stores; use {}",
                                     unported->name, unported->instead));
        ok = false;
      } else if (auto t = choice(*type_node, data_types)) {
        h.data_type = *t;
      } else {
        ok = false;
      }
    }
    if (const auto* x = optional(v, "nullable")) {
      if (auto b = bool_value(*x)) h.nullable = *b;
    }
    if (const auto* x = optional(v, "primary_key")) {
      if (auto b = bool_value(*x)) h.primary_key = *b;
    }
    const config_node* precision = optional(v, "precision");
    const config_node* scale = optional(v, "scale");
    for (const auto* x : {precision, scale}) {
      if (x == nullptr || !h.data_type || *h.data_type == column_data_type::decimal) continue;
      fail(*x, fmt::format("`{}` applies to data_type `decimal` only (numeric(precision, "
                           "scale)); `{}` has none, remove it",
                           x == precision ? "precision" : "scale", to_string(*h.data_type)));
      ok = false;
    }
    if ((precision != nullptr || scale != nullptr) && !h.data_type) {
      fail(precision != nullptr ? *precision : *scale,
           "`precision` and `scale` need `data_type: decimal` beside them");
      ok = false;
    }
    if (precision != nullptr && h.data_type == column_data_type::decimal) {
      // PostgreSQL's numeric allows up to 1000 digits.
      if (auto p = integer_value(*precision, 1, 1000)) h.precision = static_cast<int>(*p);
    }
    if (scale != nullptr && h.data_type == column_data_type::decimal) {
      if (precision == nullptr) {
        fail(*scale, "`scale` needs `precision` beside it (numeric(precision, scale))");
        ok = false;
      } else if (auto sc = integer_value(*scale, 0, 1000)) {
        h.scale = static_cast<int>(*sc);
        if (h.precision > 0 && h.scale > h.precision) {
          fail(*scale, fmt::format("scale {} is more than precision {}; numeric(precision, "
                                   "scale) keeps scale of its precision digits after the point",
                                   h.scale, h.precision));
          ok = false;
        }
      }
    }
    if (const auto* x = optional(v, "nullable"); x != nullptr && h.primary_key && h.nullable) {
      fail(*x, "a primary key column is never null; remove `nullable: true`");
      ok = false;
    }
    if (ok) out.push_back(std::move(h));
  }
  return out;
}

}  // namespace restsync::config_reader

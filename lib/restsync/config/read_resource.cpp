// The `resources` list: dlt shorthands normalised, resource_defaults merged
// into each resource, names unique; each resource's own keys and schedule.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

#include "restsync/config/normalize.hpp"
#include "restsync/config/reader.hpp"
#include "restsync/store/naming.hpp"

namespace restsync::config_reader {

namespace {

constexpr std::string_view resource_keys[] = {
    "name", "endpoint", "primary_key", "write_disposition", "schedule", "full_scan_every",
    "hard_delete", "max_age", "columns", "include_from_parent", "on_parent_deleted",
    // Known, to be refused with a reason rather than as unknown.
    "processing_steps"};
constexpr named<disposition> dispositions[] = {{"merge", disposition::merge},
                                               {"append", disposition::append},
                                               {"replace", disposition::replace}};
constexpr std::string_view schedule_keys[] = {"interval", "jitter", "failure_backoff"};

}  // namespace

std::vector<resource_config> loader::read_resources(const config_node& list,
                                                    const config_node* defaults) {
  std::vector<resource_config> out;
  if (list.kind != node_kind::sequence) {
    fail(list,
         fmt::format("expected a list of resources (`- name: …`), found {}", kind_name(list.kind)));
    return out;
  }
  if (list.items.empty()) {
    fail(list, "the list is empty; list at least one resource to sync");
    return out;
  }
  std::optional<config_node> base;
  if (defaults != nullptr) {
    base = *defaults;
    if (config_node* e = base->find("endpoint")) normalize_endpoint(*e);
  }
  std::map<std::string, source_mark> seen;
  for (const auto& item : list.items) {
    config_node resource = normalize_resource(item);
    if (base && resource.kind == node_kind::map) {
      resource = merge_nodes(*base, resource);
      budget_.charge_tree(resource, "once resource_defaults are merged into each resource");
    }
    auto r = read_resource(resource);
    if (!r) continue;
    const config_node* name = resource.find("name");
    auto [it, inserted] = seen.emplace(r->name, name->mark);
    if (!inserted) {
      fail(*name, fmt::format("duplicate resource name `{}` (first used at line {}); resource "
                              "names must be unique because each names a table",
                              r->name, it->second.line));
      continue;
    }
    out.push_back(std::move(*r));
  }
  check_parents(out);
  return out;
}

std::optional<resource_config> loader::read_resource(const config_node& n) {
  if (!expect_map(n, "a resource: a map with `name` and `endpoint`, or a bare path")) {
    return std::nullopt;
  }
  resource_config r;
  bool ok = true;
  check_keys(n, resource_keys);
  if (const auto* v = required(n, "name", "the resource's name, which also names its table")) {
    if (auto s = non_empty_string(*v, "the resource's name")) {
      if (std::any_of(s->begin(), s->end(),
                      [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; })) {
        fail(*v, fmt::format("{} contains spaces or control characters; use a name such as "
                             "`accounts_feeds`",
                             shown(*v)));
        ok = false;
      } else {
        r.name = *s;
      }
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }

  if (const auto* v = n.find("processing_steps")) {
    fail(*v,
         "dlt's processing steps (`filter`, `map`, `yield_map`) are Python functions and cannot "
         "port to restsync; it loads every record as the API sends it. Instead: every top-level "
         "field gets a column of its own, nested values are stored as JSON (see Columns in "
         "docs/configuration.md); `columns` gives columns their types; `endpoint.params` asks the "
         "API "
         "to filter; "
         "`endpoint.incremental` (with `end_value`) keeps only records in a window; "
         "`write_disposition` chooses merge, append or replace; and a view over the table can "
         "filter or reshape rows in PostgreSQL");
    ok = false;
  }

  bool primary_key_failed = false;
  if (const auto* v = optional(n, "primary_key")) {
    if (v->kind == node_kind::scalar) {
      if (auto s = non_empty_string(*v, "a field name or a list of field names")) {
        r.primary_key.push_back(*s);
      } else {
        primary_key_failed = true;
      }
    } else if (v->kind == node_kind::sequence) {
      for (const auto& item : v->items) {
        if (auto s = non_empty_string(item, "a field name")) {
          r.primary_key.push_back(*s);
        } else {
          primary_key_failed = true;
        }
      }
    } else {
      fail(*v, fmt::format("expected a field name or a list of field names, found {}",
                           kind_name(v->kind)));
      primary_key_failed = true;
    }
  }
  bool disposition_failed = false;
  const config_node* disposition_node = optional(n, "write_disposition");
  if (disposition_node != nullptr) {
    if (auto c = choice(*disposition_node, dispositions)) {
      r.write_disposition = *c;
    } else {
      disposition_failed = true;
    }
  }
  if (const auto* v = required(n, "endpoint", "a map with at least `path`")) {
    if (expect_map(*v, "a map with at least `path`, or just the path")) {
      std::vector<parent_ref> refs;
      read_endpoint(*v, r.endpoint, refs);
      r.parent = read_parent(n, refs);
      if (r.parent && !r.name.empty()) parent_refs_.emplace(r.name, refs.front());
    }
  }
  if (const auto* v = optional(n, "schedule")) {
    if (expect_map(*v, "a map with `interval`, `jitter` and `failure_backoff`")) {
      check_keys(*v, schedule_keys);
      if (const auto* i = optional(*v, "interval")) {
        if (auto d = duration_value(*i, false)) r.schedule.interval = *d;
      }
      if (const auto* i = optional(*v, "jitter")) {
        if (auto d = duration_value(*i, true)) r.schedule.jitter = *d;
      }
      if (const auto* i = optional(*v, "failure_backoff")) {
        if (auto d = duration_value(*i, false)) r.schedule.failure_backoff = *d;
      }
    }
  }
  if (const auto* v = optional(n, "full_scan_every")) {
    if (auto d = duration_value(*v, false)) r.full_scan_every = *d;
  }
  if (const auto* v = optional(n, "hard_delete")) {
    if (auto b = bool_value(*v)) r.hard_delete = *b;
  }
  if (const auto* v = optional(n, "max_age")) {
    if (auto d = duration_value(*v, false)) r.max_age = *d;
  }

  if (const auto* v = optional(n, "columns")) {
    r.columns = read_columns(*v);
    if (!primary_key_failed && !merge_key_hints(n, r)) primary_key_failed = true;
  }

  if (r.write_disposition == disposition::merge && r.primary_key.empty() && !primary_key_failed &&
      !disposition_failed) {
    const config_node& at = disposition_node != nullptr ? *disposition_node : n;
    fail(at,
         "write_disposition `merge` needs a primary_key to match records on; set "
         "`primary_key` (here or in resource_defaults), or use write_disposition `append` "
         "or `replace`");
  }
  if (!ok) return std::nullopt;
  return r;
}

bool loader::merge_key_hints(const config_node& resource, resource_config& r) {
  const config_node* columns = resource.find("columns");
  auto hint_node = [&](const std::string& column) {
    const config_node* h = columns->find(column);
    const config_node* k = h != nullptr ? h->find("primary_key") : nullptr;
    return k != nullptr ? k : (h != nullptr ? h : columns);
  };
  auto in_key = [&](const std::string& column) {
    return std::any_of(r.primary_key.begin(), r.primary_key.end(),
                       [&](const std::string& f) { return column_name(f) == column; });
  };
  bool ok = true;
  std::vector<std::string> hinted;
  for (const auto& h : r.columns) {
    if (h.primary_key) hinted.push_back(h.name);
    const config_node* k = columns->find(h.name)->find("primary_key");
    if (!h.primary_key && k != nullptr && k->kind != node_kind::null && in_key(h.name)) {
      fail(*k, fmt::format("`primary_key: false` on column `{}` contradicts the resource's "
                           "primary_key, which names it; remove one of the two",
                           h.name));
      ok = false;
    }
  }
  if (hinted.empty() || !ok) return ok;
  if (r.primary_key.empty()) {
    // dlt's meaning: the hinted columns are the key, in the order written.
    // The column name is the field's name, which the naming rules keep.
    r.primary_key = hinted;
    return true;
  }
  for (const auto& c : hinted) {
    if (in_key(c)) continue;
    std::string key;
    for (const auto& f : r.primary_key) key += (key.empty() ? "" : ", ") + f;
    fail(*hint_node(c),
         fmt::format("column `{}` is hinted `primary_key: true`, but the resource's primary_key "
                     "(here or from resource_defaults) is [{}]; restsync does not merge the two "
                     "into one key as dlt does, since a default `primary_key` would silently "
                     "join it: list the key in `primary_key` (`primary_key: [{}]`, or `{}` "
                     "alone) and drop `primary_key: true`",
                     c, key, key + ", " + c, c));
    ok = false;
  }
  return ok;
}

}  // namespace restsync::config_reader

// Dependent resources (dlt's `{resources.<parent>.<field>}` placeholders, the
// older `{type: resolve}` params, include_from_parent): what each names,
// read per resource, and the checks across resources (the parent exists, no
// cycle, keys that keep different parents' rows apart).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>
#include <variant>

#include "restsync/config/placeholders.hpp"
#include "restsync/config/reader.hpp"

namespace restsync::config_reader {

namespace {

constexpr std::string_view resolve_keys[] = {"type", "resource", "field"};
constexpr named<parent_deleted_action> parent_deleted_actions[] = {
    {"keep", parent_deleted_action::keep}, {"delete", parent_deleted_action::remove}};

// `resources.<parent>.<field>` split, or why not.
std::variant<std::pair<std::string, std::string>, std::string> split_resource_reference(
    std::string_view name) {
  constexpr std::string_view prefix = "resources.";
  auto rest = name.substr(prefix.size());
  auto dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == rest.size())
    return fmt::format("`{{{}}}` is not `{{resources.<parent>.<field>}}`", name);
  auto field = rest.substr(dot + 1);
  if (field.find('.') != std::string_view::npos)
    return fmt::format(
        "`{{{}}}` names a nested field; restsync binds a parent's top-level field (each is a "
        "column of the parent's table): name the top-level field that holds the value",
        name);
  return std::pair{std::string(rest.substr(0, dot)), std::string(field)};
}

const resource_config* find_resource_in(const std::vector<resource_config>& resources,
                                        std::string_view name) {
  auto it = std::find_if(resources.begin(), resources.end(),
                         [&](const resource_config& r) { return r.name == name; });
  return it == resources.end() ? nullptr : &*it;
}

}  // namespace

void loader::add_resource_ref(const config_node& v, const std::string& name,
                              std::vector<parent_ref>& refs) {
  auto split = split_resource_reference(name);
  if (auto* error = std::get_if<std::string>(&split)) {
    fail(v, *error);
    return;
  }
  auto& [resource, field] = std::get<0>(split);
  refs.push_back({name, resource, field, v.mark, v.path});
}

void loader::read_path_placeholders(const config_node& v, std::vector<parent_ref>& refs,
                                    std::vector<std::string>& plain) {
  auto names = placeholder_names(v.scalar);
  if (auto* error = std::get_if<std::string>(&names)) {
    fail(v, fmt::format("{}: {}", shown(v), *error));
    return;
  }
  for (const auto& name : std::get<std::vector<std::string>>(names)) {
    if (name.starts_with("resources.")) {
      add_resource_ref(v, name, refs);
    } else if (name.starts_with("incremental.")) {
      fail(v, fmt::format("`{{{}}}` cannot go in the path; incremental values go in `params` "
                          "(or `incremental.start_param`)",
                          name));
    } else if (name.find('.') != std::string::npos) {
      fail(v, fmt::format("`{{{}}}` is not a placeholder restsync knows; a parent resource's "
                          "field is `{{resources.<parent>.<field>}}`",
                          name));
    } else if (std::find(plain.begin(), plain.end(), name) == plain.end()) {
      plain.push_back(name);
    }
  }
}

bool loader::read_resolve_param(const std::string& name, const config_node& v,
                                std::vector<parent_ref>& refs) {
  check_keys(v, resolve_keys);
  const auto* resource = required(v, "resource", "the parent resource's name");
  const auto* field = required(v, "field", "the parent's field whose value fills the parameter");
  std::optional<std::string> r, f;
  if (resource) r = non_empty_string(*resource, "the parent resource's name");
  if (field) f = non_empty_string(*field, "the parent's top-level field, such as `id`");
  if (!r || !f) return false;
  if (f->find('.') != std::string::npos) {
    fail(*field, fmt::format("{} names a nested field; restsync binds a parent's top-level field "
                             "(each is a column of the parent's table)",
                             shown(*field)));
    return false;
  }
  refs.push_back({name, *r, *f, v.mark, v.path});
  return true;
}

void loader::read_param_placeholders(const config_node& v, std::vector<parent_ref>& refs) {
  auto names = placeholder_names(v.scalar);
  if (auto* error = std::get_if<std::string>(&names)) {
    fail(v, fmt::format("{}: {}", shown(v), *error));
    return;
  }
  for (const auto& name : std::get<std::vector<std::string>>(names)) {
    if (name.starts_with("resources.")) add_resource_ref(v, name, refs);
  }
}

std::optional<parent_config> loader::read_parent(const config_node& n,
                                                 const std::vector<parent_ref>& refs) {
  const auto* include = optional(n, "include_from_parent");
  const auto* deleted = optional(n, "on_parent_deleted");
  if (refs.empty()) {
    for (const auto* v : {include, deleted}) {
      if (v != nullptr)
        fail(*v,
             "this resource has no parent: name one of its fields in `endpoint.path` or "
             "`endpoint.params` as `{resources.<parent>.<field>}`");
    }
    return std::nullopt;
  }
  parent_config p;
  p.resource = refs.front().resource;
  for (const auto& ref : refs) {
    if (ref.resource != p.resource) {
      fail(ref.mark, ref.path,
           fmt::format("`{{{}}}` names resource `{}`, but `{}` already names `{}`: a resource "
                       "has one parent (as in dlt)",
                       ref.name, ref.resource, refs.front().name, p.resource));
      return std::nullopt;
    }
    if (std::none_of(p.placeholders.begin(), p.placeholders.end(),
                     [&](const auto& x) { return x.name == ref.name; }))
      p.placeholders.push_back({ref.name, ref.field});
    if (std::find(p.fields.begin(), p.fields.end(), ref.field) == p.fields.end())
      p.fields.push_back(ref.field);
  }
  if (include != nullptr) {
    std::vector<const config_node*> items;
    if (include->kind == node_kind::sequence) {
      for (const auto& item : include->items) items.push_back(&item);
    } else {
      items.push_back(include);
    }
    for (const auto* item : items) {
      auto f = non_empty_string(*item, "a top-level field of the parent, such as `name`");
      if (!f) continue;
      if (f->find('.') != std::string::npos) {
        fail(*item, fmt::format("{} names a nested field; include the parent's top-level field",
                                shown(*item)));
        continue;
      }
      p.include.push_back(*f);
      if (std::find(p.fields.begin(), p.fields.end(), *f) == p.fields.end()) p.fields.push_back(*f);
    }
  }
  if (deleted != nullptr) {
    if (auto a = choice(*deleted, parent_deleted_actions)) p.on_parent_deleted = *a;
  }
  return p;
}

void loader::check_parents(const std::vector<resource_config>& resources) {
  for (const auto& r : resources) {
    if (!r.parent) continue;
    const auto it = parent_refs_.find(r.name);
    if (it == parent_refs_.end()) continue;
    const parent_ref& at = it->second;
    const auto& p = *r.parent;
    const resource_config* parent = find_resource_in(resources, p.resource);
    if (parent == nullptr) {
      std::vector<std::string_view> names;
      for (const auto& x : resources) names.push_back(x.name);
      fail(at.mark, at.path,
           fmt::format("`{{{}}}` names resource `{}`, which this configuration does not have{}",
                       at.name, p.resource, with_suggestion(p.resource, names)));
      continue;
    }
    // Each resource has at most one parent: a cycle shows by walking up.
    std::set<std::string> chain{r.name};
    for (const resource_config* up = parent; up != nullptr;
         up = up->parent ? find_resource_in(resources, up->parent->resource) : nullptr) {
      if (!chain.insert(up->name).second) {
        fail(at.mark, at.path,
             fmt::format("`{{{}}}` makes `{}` depend on itself (through {}); a parent must be "
                         "read before its children",
                         at.name, r.name, fmt::join(chain, ", ")));
        break;
      }
    }
    if (r.write_disposition == disposition::replace) {
      fail(at.mark, at.path,
           fmt::format("`{}` depends on `{}` and has write_disposition `replace`, which swaps "
                       "in one whole table per run; a dependent resource is read parent by "
                       "parent: use `merge` (with `on_parent_deleted: delete` to drop the rows "
                       "of vanished parents)",
                       r.name, p.resource));
    }
    // A merge key without a parent column is dlt's usual form (GitHub's
    // comment ids are global); the run refuses a key that comes from two
    // parents (parent_config::keyed_by_parent) instead of merging them.
  }
}

}  // namespace restsync::config_reader

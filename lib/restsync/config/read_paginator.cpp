// An endpoint's `paginator`: its type and that type's keys.
#include <fmt/format.h>

#include <algorithm>

#include "restsync/config/reader.hpp"

namespace restsync::config_reader {

namespace {

// The paginator types, as config_node names them; each reads into its
// alternative of paginator_config.
enum class paginator_kind { single_page, offset, page_number, cursor, json_link, header_link };
constexpr named<paginator_kind> paginator_types[] = {
    {"single_page", paginator_kind::single_page}, {"offset", paginator_kind::offset},
    {"page_number", paginator_kind::page_number}, {"cursor", paginator_kind::cursor},
    {"json_link", paginator_kind::json_link},     {"header_link", paginator_kind::header_link}};
constexpr auto paginator_type_names = names_of(paginator_types);
constexpr std::string_view single_page_keys[] = {"type"};
constexpr std::string_view offset_keys[] = {
    "type",       "limit",          "offset",           "offset_param",    "limit_param",
    "total_path", "maximum_offset", "offset_body_path", "limit_body_path", "stop_on_short_page"};
constexpr std::string_view page_number_keys[] = {
    "type", "base_page", "page", "page_param", "total_path", "maximum_page", "page_body_path"};
constexpr std::string_view cursor_keys[] = {"type", "cursor_path", "cursor_param",
                                            "cursor_body_path"};
constexpr std::string_view json_link_keys[] = {"type", "next_url_path"};
constexpr std::string_view header_link_keys[] = {"type", "links_next_key"};

}  // namespace

std::optional<paginator_config> loader::read_paginator(const config_node& n) {
  if (!expect_map(n, fmt::format("a paginator: one of {}, or a map with `type`",
                                 list_of(paginator_type_names)))) {
    return std::nullopt;
  }
  const auto* t = required(n, "type", fmt::format("one of {}", list_of(paginator_type_names)));
  if (t == nullptr) return std::nullopt;
  auto type = choice(*t, paginator_types);
  if (!type) return std::nullopt;
  const std::string note = fmt::format("(paginator type {})", name_in(paginator_types, *type));

  auto name_of = [this](const config_node& map, std::string_view key, std::string& into) {
    if (const auto* v = optional(map, key)) {
      if (auto s = param_name(*v)) into = *s;
    }
  };
  auto path_of = [this](const config_node& map, std::string_view key, auto& into) {
    if (const auto* v = optional(map, key)) {
      if (auto p = json_path_value(*v)) {
        if (p->empty()) {
          fail(*v, "must name a field of the body, not the whole body `$`");
        } else {
          into = *p;
        }
      }
    }
  };

  // dlt's *_body_path: the position goes into the body instead of the query
  // parameter, so the two are exclusive (as in dlt).
  auto body_path_of = [this, &n, &path_of](std::string_view key, std::string_view param_key,
                                           body_path& into) {
    path_of(n, key, into);
    if (!into) return;
    if (const auto* param = n.find(param_key); param != nullptr && param->kind != node_kind::null) {
      fail(*n.find(key),
           fmt::format("`{}` and `{}` both say where the position goes; give one of the two "
                       "(over a paginator from resource_defaults, `{}: ~` removes the default's)",
                       key, param_key, param_key));
      into.reset();
    }
  };

  switch (*type) {
    case paginator_kind::single_page:
      check_keys(n, single_page_keys, note);
      return single_page_paginator{};
    case paginator_kind::offset: {
      check_keys(n, offset_keys, note);
      offset_paginator p;
      if (const auto* v = optional(n, "limit")) {
        if (auto x = integer_value(*v, 1, max_int64)) p.limit = *x;
      }
      if (const auto* v = optional(n, "offset")) {
        if (auto x = integer_value(*v, 0, max_int64)) p.offset = *x;
      }
      name_of(n, "offset_param", p.offset_param);
      name_of(n, "limit_param", p.limit_param);
      body_path_of("offset_body_path", "offset_param", p.offset_body_path);
      body_path_of("limit_body_path", "limit_param", p.limit_body_path);
      path_of(n, "total_path", p.total_path);
      if (const auto* v = optional(n, "maximum_offset")) {
        if (auto x = integer_value(*v, 1, max_int64)) p.maximum_offset = *x;
      }
      if (const auto* v = optional(n, "stop_on_short_page")) {
        if (auto x = bool_value(*v)) p.stop_on_short_page = *x;
      }
      return p;
    }
    case paginator_kind::page_number: {
      check_keys(n, page_number_keys, note);
      page_number_paginator p;
      if (const auto* v = optional(n, "base_page")) {
        if (auto x = integer_value(*v, 0, max_int64)) p.base_page = *x;
      }
      p.page = p.base_page;
      if (const auto* v = optional(n, "page")) {
        if (auto x = integer_value(*v, p.base_page, max_int64)) p.page = *x;
      }
      name_of(n, "page_param", p.page_param);
      body_path_of("page_body_path", "page_param", p.page_body_path);
      path_of(n, "total_path", p.total_path);
      if (const auto* v = optional(n, "maximum_page")) {
        if (auto x = integer_value(*v, std::max<std::int64_t>(p.base_page, 1), max_int64)) {
          p.maximum_page = *x;
        }
      }
      return p;
    }
    case paginator_kind::cursor: {
      check_keys(n, cursor_keys, note);
      cursor_paginator p;
      path_of(n, "cursor_path", p.cursor_path);
      name_of(n, "cursor_param", p.cursor_param);
      body_path_of("cursor_body_path", "cursor_param", p.cursor_body_path);
      return p;
    }
    case paginator_kind::json_link: {
      check_keys(n, json_link_keys, note);
      json_link_paginator p;
      path_of(n, "next_url_path", p.next_url_path);
      return p;
    }
    case paginator_kind::header_link: {
      check_keys(n, header_link_keys, note);
      header_link_paginator p;
      if (const auto* v = optional(n, "links_next_key")) {
        if (auto s = non_empty_string(*v, "the Link relation of the next page, such as `next`")) {
          p.links_next_key = *s;
        }
      }
      return p;
    }
  }
  return std::nullopt;
}

}  // namespace restsync::config_reader

#include "restsync/config.hpp"

#include <fmt/format.h>

namespace restsync {

namespace {

bool is_absolute_http_url(std::string_view s) {
  auto starts = [s](std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      char c = s[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != prefix[i]) return false;
    }
    return true;
  };
  return starts("http://") || starts("https://");
}

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};

}  // namespace

std::string to_string(const json_path& path) {
  if (path.empty()) return "$";
  return fmt::format("{}", fmt::join(path, "."));
}

std::string_view paginator_type_name(const paginator_config& p) {
  return std::visit(
      overloaded{
          [](const single_page_paginator&) { return std::string_view("single_page"); },
          [](const offset_paginator&) { return std::string_view("offset"); },
          [](const page_number_paginator&) { return std::string_view("page_number"); },
          [](const cursor_paginator&) { return std::string_view("cursor"); },
          [](const json_link_paginator&) { return std::string_view("json_link"); },
          [](const header_link_paginator&) { return std::string_view("header_link"); },
      },
      p);
}

std::string_view to_string(auth_type t) {
  switch (t) {
    case auth_type::none:
      return "none";
    case auth_type::bearer:
      return "bearer";
    case auth_type::http_basic:
      return "http_basic";
    case auth_type::api_key:
      return "api_key";
  }
  return "?";
}

std::string_view to_string(api_key_location l) {
  return l == api_key_location::header ? "header" : "query";
}

std::string_view to_string(disposition d) {
  switch (d) {
    case disposition::merge:
      return "merge";
    case disposition::append:
      return "append";
    case disposition::replace:
      return "replace";
  }
  return "?";
}

std::string_view to_string(row_order o) {
  switch (o) {
    case row_order::unordered:
      return "unordered";
    case row_order::asc:
      return "asc";
    case row_order::desc:
      return "desc";
  }
  return "?";
}

std::string_view to_string(missing_cursor_action a) {
  switch (a) {
    case missing_cursor_action::raise:
      return "raise";
    case missing_cursor_action::include:
      return "include";
    case missing_cursor_action::exclude:
      return "exclude";
  }
  return "?";
}

const resource_config* find_resource(const config& cfg, std::string_view name) {
  for (const auto& r : cfg.resources) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::string resource_url(const client_config& client, const endpoint_config& endpoint) {
  if (is_absolute_http_url(endpoint.path)) return endpoint.path;
  std::string_view base = client.base_url;
  std::string_view path = endpoint.path;
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return fmt::format("{}/{}", base, path);
}

}  // namespace restsync

#include "restsync/config/config.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "restsync/overloaded.hpp"

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

std::string_view to_string(column_data_type t) {
  switch (t) {
    case column_data_type::text:
      return "text";
    case column_data_type::bigint:
      return "bigint";
    case column_data_type::double_:
      return "double";
    case column_data_type::bool_:
      return "bool";
    case column_data_type::timestamp:
      return "timestamp";
    case column_data_type::date:
      return "date";
    case column_data_type::decimal:
      return "decimal";
    case column_data_type::json:
      return "json";
  }
  return "?";
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
    case auth_type::oauth2_client_credentials:
      return "oauth2_client_credentials";
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

std::string to_string(const listen_address& a) {
  if (a.host.find(':') != std::string::npos) return fmt::format("[{}]:{}", a.host, a.port);
  return fmt::format("{}:{}", a.host, a.port);
}

std::optional<listen_address> parse_listen_address(std::string_view text) {
  listen_address a;
  std::string_view port = text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    a.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
    in6_addr v6{};
    if (inet_pton(AF_INET6, a.host.c_str(), &v6) != 1) return std::nullopt;
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    a.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (a.host == "localhost") a.host = "127.0.0.1";
    in_addr v4{};
    if (inet_pton(AF_INET, a.host.c_str(), &v4) != 1) return std::nullopt;
  } else {
    // A bare port: the metrics carry nothing secret, but nothing outside the
    // host needs them unless the operator says so.
    a.host = "127.0.0.1";
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535)
    return std::nullopt;
  a.port = static_cast<std::uint16_t>(value);
  return a;
}

const resource_config* find_resource(const config& cfg, std::string_view name) {
  for (const auto& r : cfg.resources) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::string parent_config::column_of(std::string_view field) const {
  return fmt::format("_{}_{}", resource, field);
}

std::vector<std::string> parent_config::key_columns() const {
  std::vector<std::string> out;
  for (const auto& p : placeholders) {
    auto c = column_of(p.field);
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(std::move(c));
  }
  return out;
}

bool keyed_by_parent(const resource_config& r) {
  if (!r.parent) return true;
  const auto keys = r.parent->key_columns();
  return std::any_of(keys.begin(), keys.end(), [&](const std::string& c) {
    return std::find(r.primary_key.begin(), r.primary_key.end(), c) != r.primary_key.end();
  });
}

std::string_view to_string(parent_deleted_action a) {
  return a == parent_deleted_action::keep ? "keep" : "delete";
}

std::string resource_url(const client_config& client, const endpoint_config& endpoint) {
  if (is_absolute_http_url(endpoint.path)) return endpoint.path;
  std::string_view base = client.base_url;
  std::string_view path = endpoint.path;
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return fmt::format("{}/{}", base, path);
}

query_params expand_incremental_placeholders(const query_params& params,
                                             const std::optional<std::string>& start,
                                             const std::optional<std::string>& end,
                                             const std::optional<std::string>& initial) {
  query_params out;
  for (const auto& [name, value] : params) {
    std::string v = value;
    bool missing = false;
    for (auto [ph, with] : {std::pair{std::string_view("{incremental.start_value}"), &start},
                            std::pair{std::string_view("{incremental.end_value}"), &end},
                            std::pair{std::string_view("{incremental.initial_value}"), &initial}}) {
      for (auto at = v.find(ph); at != std::string::npos; at = v.find(ph)) {
        if (!*with) {
          missing = true;
          break;
        }
        v.replace(at, ph.size(), **with);
      }
    }
    if (!missing) out.emplace_back(name, std::move(v));
  }
  return out;
}

}  // namespace restsync

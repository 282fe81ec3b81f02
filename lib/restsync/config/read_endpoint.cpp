// A resource's `endpoint`: path, method, params (and dlt's incremental
// param form), the JSON body, data_selector, and its `error_handler`; the
// paginator and incremental sections have readers of their own.
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <type_traits>
#include <variant>

#include "restsync/config/placeholder.hpp"
#include "restsync/config/reader.hpp"
#include "restsync/http/url.hpp"

namespace restsync::config_reader {

namespace {

constexpr std::string_view endpoint_keys[] = {"path",          "method",        "params",
                                              "json",          "data_selector", "paginator",
                                              "error_handler", "incremental",   "response_actions"};
constexpr std::string_view response_action_keys[] = {"status_code", "content", "action"};
constexpr named<http_method> methods[] = {{"GET", http_method::get}, {"POST", http_method::post}};

void append_json_string(std::string_view s, std::string& out) {
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  out += '"';
}

// Why value cannot be written at path of the body template json, or empty:
// every step before the last must be absent (dlt makes the object) or a map.
std::string body_path_blocked(const config_node* json, const json_path& path) {
  if (json == nullptr) return {};
  if (json->kind != node_kind::map)
    return "the body (`json`) is a list, so a position cannot be written into it";
  const config_node* at = json;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    at = at->find(path[i]);
    if (at == nullptr) return {};
    if (at->kind != node_kind::map)
      return fmt::format("`json` already holds {} at `{}`, not a map to write `{}` into",
                         kind_name(at->kind),
                         to_string(json_path(path.begin(), path.begin() + i + 1)), path[i + 1]);
  }
  return {};
}
constexpr std::string_view error_handler_keys[] = {
    "retry_on_status_codes",  "max_retries",         "backoff_factor",  "max_backoff",
    "max_rate_limit_retries", "max_rate_limit_wait", "max_retry_after", "min_rate_limit_wait"};

}  // namespace

void loader::read_endpoint(const config_node& n, endpoint_config& e,
                           std::vector<parent_ref>& refs) {
  check_keys(n, endpoint_keys);
  // Plain `{name}` placeholders of the path: dlt's older resolve params.
  std::vector<std::string> path_names;
  if (const auto* v =
          required(n, "path", "the endpoint's path below base_url, such as `/v1/users`")) {
    if (auto s = non_empty_string(*v, "the endpoint's path, such as `/v1/users`")) {
      if (s->find_first_of("?#") != std::string::npos) {
        fail(*v, fmt::format("{} carries a query; put query parameters under `params`", shown(*v)));
      } else if (s->find_first_of("{}") != std::string::npos) {
        read_path_placeholders(*v, refs, path_names);
        e.path = *s;
      } else if (starts_with_scheme(*s)) {
        try {
          parse_url(*s);
          e.path = *s;
        } catch (const std::invalid_argument& ex) {
          fail(*v, fmt::format("{}: {}; expected a path such as `/v1/users` or an absolute "
                               "http(s) URL",
                               shown(*v), ex.what()));
        }
      } else {
        e.path = *s;
      }
    }
  }
  if (const auto* v = optional(n, "method")) {
    if (auto m = choice(*v, methods)) e.method = *m;
  }
  if (const auto* v = optional(n, "json")) {
    if (v->kind != node_kind::map && v->kind != node_kind::sequence) {
      fail(*v, fmt::format("expected the request body as a map (or a list), such as "
                           "`{{query: open, page: {{limit: 50}}}}`, found {}",
                           kind_name(v->kind)));
    } else {
      std::string body;
      body_refs_ = &refs;
      if (append_json(*v, false, body)) e.json = std::move(body);
      body_refs_ = nullptr;
    }
  }

  const config_node* param_incremental = nullptr;
  std::string param_incremental_name;
  if (const auto* v = optional(n, "params")) {
    if (expect_map(*v, "a map of query parameter names to values")) {
      for (std::size_t i = 0; i < v->keys.size(); ++i) {
        const config_key& key = v->keys[i];
        const config_node& value = v->items[i];
        if (value.kind == node_kind::map) {
          const config_node* type = value.find("type");
          if (type != nullptr && type->kind == node_kind::scalar && type->scalar == "incremental") {
            param_incremental = &value;
            param_incremental_name = key.name;
            continue;
          }
          if (type != nullptr && type->kind == node_kind::scalar && type->scalar == "resolve") {
            const bool bound =
                std::find(path_names.begin(), path_names.end(), key.name) != path_names.end();
            if (read_resolve_param(key.name, value, refs)) {
              if (!bound) {
                fail(value, fmt::format("resolve parameter `{}` is not bound in the path; "
                                        "write `{{{}}}` in `path`, or, for a query "
                                        "parameter, `{}: \"{{resources.<parent>.<field>}}\"`",
                                        key.name, key.name, key.name));
              }
            }
            path_names.erase(std::remove(path_names.begin(), path_names.end(), key.name),
                             path_names.end());
            continue;
          }
          fail(value,
               "expected a string, number or boolean; for incremental loading use "
               "`endpoint.incremental` (or dlt's `{type: incremental, cursor_path: …}`), for a "
               "parent resource's field `{type: resolve, resource: …, field: …}`");
          continue;
        }
        if (value.kind != node_kind::scalar) {
          fail(value, value.kind == node_kind::null
                          ? std::string("no value given; write `\"\"` for an empty parameter")
                          : fmt::format("expected a string, number or boolean, found {}",
                                        kind_name(value.kind)));
          continue;
        }
        if (auto s = string_value(value, looks_secret(key.name))) {
          if (s->find("{resources.") != std::string::npos) read_param_placeholders(value, refs);
          e.params.emplace_back(key.name, *s);
        }
      }
    }
  }
  if (const auto* v = n.find("path"); v != nullptr && !path_names.empty()) {
    fail(*v, fmt::format("`{{{}}}` in the path names no parameter; write "
                         "`{{resources.<parent>.<field>}}` for a parent resource's field (dlt's "
                         "form), or add `params: {{{}: {{type: resolve, resource: <parent>, "
                         "field: <field>}}}}`",
                         path_names.front(), path_names.front()));
  }
  if (const auto* v = optional(n, "data_selector")) {
    if (v->kind == node_kind::sequence) {
      // A restsync extension: one selector per shape of the body, tried in
      // order. A list of one is the same as the string.
      if (v->items.empty()) {
        fail(*v,
             "an empty list selects nothing; write one selector such as `_data`, or a list of "
             "alternatives such as `[_data.partialCollection, _data]`");
      }
      std::vector<json_path> paths;
      for (const auto& item : v->items) {
        if (auto p = json_path_value(item)) {
          if (std::find(paths.begin(), paths.end(), *p) != paths.end()) {
            fail(item, fmt::format("{} is already in this list", shown(item)));
          }
          paths.push_back(std::move(*p));
        }
      }
      if (paths.size() == v->items.size() && !paths.empty()) {
        e.data_selector = paths.front();
        if (paths.size() > 1) e.data_selectors = std::move(paths);
      }
    } else if (auto p = json_path_value(*v)) {
      e.data_selector = *p;
    }
  }
  if (const auto* v = required(n, "paginator",
                               "how the API pages; restsync does not guess: `single_page` for an "
                               "endpoint that returns everything at once, else one of offset, "
                               "page_number, cursor, json_link, header_link")) {
    if (auto p = read_paginator(*v)) e.paginator = *p;
  }
  if (const auto* v = optional(n, "error_handler")) e.error_handler = read_error_handler(*v);
  if (const auto* v = optional(n, "response_actions"))
    e.response_actions = read_response_actions(*v);

  check_body(n, e);

  const config_node* incremental = optional(n, "incremental");
  if (incremental != nullptr && param_incremental != nullptr) {
    fail(*param_incremental,
         "incremental loading is already configured under "
         "`endpoint.incremental`; keep only one of the two");
  } else if (incremental != nullptr) {
    e.incremental = read_incremental(*incremental, false);
  } else if (param_incremental != nullptr) {
    e.incremental = read_incremental(*param_incremental, true);
    if (e.incremental) e.incremental->start_param = param_incremental_name;
  }
}

bool loader::append_json(const config_node& n, bool secret, std::string& out) {
  switch (n.kind) {
    case node_kind::null:
      out += "null";
      return true;
    case node_kind::map: {
      bool ok = true;
      out += '{';
      for (std::size_t i = 0; i < n.keys.size(); ++i) {
        if (i > 0) out += ',';
        append_json_string(n.keys[i].name, out);
        out += ':';
        // As for params and headers: a member named like a credential is a secret.
        ok = append_json(n.items[i], secret || looks_secret(n.keys[i].name), out) && ok;
      }
      out += '}';
      return ok;
    }
    case node_kind::sequence: {
      bool ok = true;
      out += '[';
      for (std::size_t i = 0; i < n.items.size(); ++i) {
        if (i > 0) out += ',';
        ok = append_json(n.items[i], secret, out) && ok;
      }
      out += ']';
      return ok;
    }
    case node_kind::scalar:
      break;
  }
  auto s = string_value(n, secret);
  if (!s) return false;
  if (!n.quoted) {
    // YAML 1.2's core types, as a JSON body has them; quote a value to send
    // it as a string.
    if (*s == "true" || *s == "false" || is_json_number(*s)) {
      out += *s;
      return true;
    }
  }
  auto pieces = parse_template(*s);
  if (auto* why = std::get_if<std::string>(&pieces)) {
    fail(n, fmt::format("{}: {}", shown(n), *why));
    return false;
  }
  const auto known = body_placeholders();
  for (const auto& p : std::get<std::vector<template_piece>>(pieces)) {
    if (!p.placeholder) continue;
    if (body_refs_ != nullptr && p.text.starts_with("resources.")) {
      add_resource_ref(n, p.text, *body_refs_);
      continue;
    }
    if (std::find(known.begin(), known.end(), p.text) == known.end()) {
      fail(n, fmt::format("`{{{}}}` is not a placeholder restsync fills; a body may hold {}; "
                          "write `{{{{` and `}}}}` for literal braces",
                          p.text, fmt::format("`{{{}}}`", fmt::join(known, "}`, `{"))));
      return false;
    }
  }
  append_json_string(*s, out);
  return true;
}

void loader::check_body(const config_node& n, const endpoint_config& e) {
  const config_node* json = n.find("json");
  if (json != nullptr && (json->kind != node_kind::map && json->kind != node_kind::sequence))
    json = nullptr;
  if (json != nullptr && e.method == http_method::get) {
    fail(*json,
         "a body is sent only with `method: POST`; add `method: POST` to the endpoint (a GET "
         "with a body is dropped by many servers and proxies)");
  }
  const config_node* paginator = n.find("paginator");
  if (paginator == nullptr || paginator->kind != node_kind::map) return;
  std::vector<std::pair<const config_node*, json_path>> written;
  std::visit(
      [&](const auto& p) {
        using P = std::decay_t<decltype(p)>;
        auto note = [&](std::string_view key, const body_path& path) {
          if (const config_node* v = paginator->find(key); v != nullptr && path)
            written.emplace_back(v, *path);
        };
        if constexpr (std::is_same_v<P, offset_paginator>) {
          note("offset_body_path", p.offset_body_path);
          note("limit_body_path", p.limit_body_path);
        } else if constexpr (std::is_same_v<P, page_number_paginator>) {
          note("page_body_path", p.page_body_path);
        } else if constexpr (std::is_same_v<P, cursor_paginator>) {
          note("cursor_body_path", p.cursor_body_path);
        }
      },
      e.paginator);
  for (std::size_t i = 0; i < written.size(); ++i) {
    const auto& [node, path] = written[i];
    if (e.method == http_method::get) {
      fail(*node,
           "the position goes into the request body, which is sent only with `method: POST`; "
           "add `method: POST` to the endpoint, or send the position as a query parameter");
      continue;
    }
    if (auto why = body_path_blocked(json, path); !why.empty()) {
      fail(*node, fmt::format("{}: {}", shown(*node), why));
      continue;
    }
    for (std::size_t j = 0; j < i; ++j) {
      const auto& other = written[j].second;
      const auto shorter = std::min(path.size(), other.size());
      if (std::equal(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(shorter),
                     other.begin()))
        fail(*node, fmt::format("{} writes where `{}` already writes (`{}`); give each its own "
                                "field",
                                shown(*node), written[j].first->path, to_string(other)));
    }
  }
}

error_handler_config loader::read_error_handler(const config_node& n) {
  error_handler_config h;
  if (!expect_map(n, "a map with `retry_on_status_codes`, `max_retries`, `backoff_factor`, …")) {
    return h;
  }
  check_keys(n, error_handler_keys);
  if (const auto* v = optional(n, "retry_on_status_codes")) {
    if (v->kind != node_kind::sequence) {
      fail(*v, fmt::format("expected a list of HTTP statuses such as `[429, 503]`, found {}",
                           kind_name(v->kind)));
    } else {
      h.retry_on_status_codes.clear();
      for (const auto& item : v->items) {
        if (auto code = integer_value(item, 400, 599)) {
          const int c = static_cast<int>(*code);
          auto& codes = h.retry_on_status_codes;
          if (std::find(codes.begin(), codes.end(), c) == codes.end()) codes.push_back(c);
        }
      }
    }
  }
  if (const auto* v = optional(n, "max_retries")) {
    if (auto x = int_value(*v, 0)) h.max_retries = *x;
  }
  if (const auto* v = optional(n, "backoff_factor")) {
    if (auto x = number_value(*v, true)) h.backoff_factor = *x;
  }
  if (const auto* v = optional(n, "max_backoff")) {
    if (auto d = duration_value(*v, false)) h.max_backoff = *d;
  }
  if (const auto* v = optional(n, "max_rate_limit_retries")) {
    if (auto x = int_value(*v, 0)) h.max_rate_limit_retries = *x;
  }
  if (const auto* v = optional(n, "max_retry_after")) {
    if (auto d = duration_value(*v, false)) h.max_retry_after = *d;
  }
  if (const auto* v = optional(n, "max_rate_limit_wait")) {
    if (auto d = duration_value(*v, false)) h.max_rate_limit_wait = *d;
  }
  if (const auto* v = optional(n, "min_rate_limit_wait")) {
    if (auto d = duration_value(*v, true)) h.min_rate_limit_wait = *d;
  }
  return h;
}

// dlt's response_actions. Only `action: ignore` ports: dlt's other actions
// are Python callables.
std::vector<response_action> loader::read_response_actions(const config_node& n) {
  constexpr std::string_view no_callables =
      "dlt also takes a Python callable (or a list of them) here, which cannot port to "
      "restsync: the only action is `ignore`";
  std::vector<response_action> out;
  if (n.kind != node_kind::sequence) {
    fail(n,
         fmt::format("expected a list such as `[{{status_code: 404, action: ignore}}]`, found {}",
                     kind_name(n.kind)));
    return out;
  }
  for (const auto& item : n.items) {
    if (item.kind != node_kind::map) {
      fail(item, fmt::format("expected a map `{{status_code: …, content: …, action: ignore}}`, "
                             "found {}; {}",
                             kind_name(item.kind), no_callables));
      continue;
    }
    check_keys(item, response_action_keys);
    response_action a;
    bool ok = true;
    if (const auto* v = optional(item, "status_code")) {
      if (auto code = integer_value(*v, 100, 599)) {
        if (*code == 429) {
          fail(*v,
               "a 429 cannot be ignored: it is flow control, which restsync waits out (see "
               "`error_handler.max_rate_limit_wait`); ignoring it would end a scan whenever the "
               "API is busy");
          ok = false;
        } else {
          a.status_code = static_cast<int>(*code);
        }
      } else {
        ok = false;
      }
    }
    if (const auto* v = optional(item, "content")) {
      if (auto s = non_empty_string(*v, "a part of the response body, such as `\"no data\"`"))
        a.content = std::move(*s);
      else
        ok = false;
    }
    if (const auto* v = required(item, "action", "`ignore`")) {
      if (v->kind != node_kind::scalar || v->scalar != "ignore") {
        fail(*v, fmt::format("{} is not an action restsync has; {}",
                             v->kind == node_kind::scalar ? shown(*v) : kind_name(v->kind),
                             no_callables));
        ok = false;
      }
    } else {
      ok = false;
    }
    if (ok && !a.status_code && !a.content) {
      fail(item,
           "matches nothing: give `status_code` (an HTTP status), `content` (a part of the "
           "body), or both");
      ok = false;
    }
    if (ok) out.push_back(std::move(a));
  }
  return out;
}

}  // namespace restsync::config_reader

// A resource's `endpoint`: path, method, params (and dlt's incremental
// param form), data_selector, and its `error_handler`; the paginator and
// incremental sections have readers of their own.
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "restsync/config/reader.hpp"
#include "restsync/http/url.hpp"

namespace restsync::config_reader {

namespace {

constexpr std::string_view endpoint_keys[] = {"path",          "method",          "params",
                                              "data_selector", "paginator",       "error_handler",
                                              "incremental",   "response_actions"};
constexpr std::string_view response_action_keys[] = {"status_code", "content", "action"};
constexpr std::string_view methods[] = {"GET"};
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
  if (const auto* v = optional(n, "method")) choice_index(*v, methods);

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

// The configuration reader's toolkit, shared by the section readers
// (config/read_*.cpp) and config/load.cpp: where problems are collected, the
// typed readers of scalars that name the file, line and key of every mistake,
// and the name tables that decode enums by name. Internal to config/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "restsync/config/config.hpp"
#include "restsync/config/error.hpp"
#include "restsync/config/tree.hpp"

namespace restsync::config_reader {

namespace fs = std::filesystem;
using key_list = std::span<const std::string_view>;

// A name a key may take and the value it stands for.
template <class E>
struct named {
  std::string_view name;
  E value;
};

template <class E, std::size_t N>
constexpr std::array<std::string_view, N> names_of(const named<E> (&table)[N]) {
  std::array<std::string_view, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = table[i].name;
  return out;
}

// The name of a value in its table ("?" if it has none).
template <class E, std::size_t N>
constexpr std::string_view name_in(const named<E> (&table)[N], E value) {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

constexpr int max_int = std::numeric_limits<int>::max();
constexpr std::int64_t max_int64 = std::numeric_limits<std::int64_t>::max();

struct problem {
  source_mark mark;
  std::string text;
};

std::string lower(std::string_view s);
// Whether a header or query parameter name carries a credential by nature.
bool looks_secret(std::string_view name);
std::string_view kind_name(node_kind k);
std::string list_of(key_list words);
// "; did you mean `x`?" when a candidate is close, else nothing.
std::string with_suggestion(std::string_view word, key_list candidates);
// HTTP header names are RFC 9110 tokens.
bool is_header_name(std::string_view s);
bool has_line_break(std::string_view s);
bool starts_with_scheme(std::string_view s);

// A placeholder that names another resource's field, where the reader found it.
struct parent_ref {
  std::string name;      // as written between the braces
  std::string resource;  // the parent
  std::string field;
  source_mark mark;
  std::string path;  // of the node, for messages
};

class loader {
 public:
  loader(std::string display_name, fs::path base_dir)
      : display_name_(std::move(display_name)), base_dir_(std::move(base_dir)) {}

  config load(const std::string& yaml);

 private:
  // config/load.cpp: the whole file.
  config load_tree(const std::string& yaml);
  void fail(source_mark mark, const std::string& path, const std::string& message);
  void fail(const config_node& n, const std::string& message) { fail(n.mark, n.path, message); }
  [[noreturn]] void throw_problems();

  bool expect_map(const config_node& n, std::string_view what);
  void check_keys(const config_node& map, key_list allowed, std::string_view note = {});
  const config_node* optional(const config_node& map, std::string_view key);
  const config_node* required(const config_node& map, std::string_view key, std::string_view hint);

  std::string shown(const config_node& n);
  std::optional<std::string> string_value(const config_node& n, bool secret = false);
  std::optional<std::string> non_empty_string(const config_node& n, std::string_view hint,
                                              bool secret = false);
  std::optional<std::int64_t> integer_value(const config_node& n, std::int64_t min,
                                            std::int64_t max);
  std::optional<int> int_value(const config_node& n, int min) {
    auto v = integer_value(n, min, max_int);
    return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
  }
  std::optional<double> number_value(const config_node& n, bool allow_zero);
  std::optional<bool> bool_value(const config_node& n);
  std::optional<milliseconds> duration_value(const config_node& n, bool allow_zero);
  // The enum value a name stands for, by its name in the table: the order of
  // a table never has to match its enum.
  template <class E, std::size_t N>
  std::optional<E> choice(const config_node& n, const named<E> (&allowed)[N]) {
    const auto names = names_of(allowed);
    auto i = choice_index(n, names);
    if (!i) return std::nullopt;
    return allowed[*i].value;
  }
  // Which of the names the value is, by position in `allowed`.
  std::optional<std::size_t> choice_index(const config_node& n, key_list allowed);
  std::optional<json_path> json_path_value(const config_node& n);
  std::optional<std::string> param_name(const config_node& n);

  // One reader per section, each in its config/read_*.cpp.
  client_config read_client(const config_node& n);
  auth_config read_auth(const config_node& n);
  void read_oauth2(const config_node& n, auth_config& a);
  query_params read_headers(const config_node& n);
  destination_config read_destination(const config_node& n);
  daemon_config read_daemon(const config_node& n);
  log_config read_log(const config_node& n);
  metrics_config read_metrics(const config_node& n);
  std::vector<resource_config> read_resources(const config_node& list, const config_node* defaults);
  std::optional<resource_config> read_resource(const config_node& n);
  std::vector<column_hint_config> read_columns(const config_node& n);
  // The key from `primary_key` and the columns hinted `primary_key: true`.
  bool merge_key_hints(const config_node& resource, resource_config& r);
  // refs: the placeholders that name another resource's fields.
  void read_endpoint(const config_node& n, endpoint_config& e, std::vector<parent_ref>& refs);
  // config/read_parent.cpp: dependent resources.
  // `{resources.<parent>.<field>}` named in v: added to refs, or refused.
  void add_resource_ref(const config_node& v, const std::string& name,
                        std::vector<parent_ref>& refs);
  void read_path_placeholders(const config_node& v, std::vector<parent_ref>& refs,
                              std::vector<std::string>& plain);
  bool read_resolve_param(const std::string& name, const config_node& v,
                          std::vector<parent_ref>& refs);
  void read_param_placeholders(const config_node& v, std::vector<parent_ref>& refs);
  std::optional<parent_config> read_parent(const config_node& n,
                                           const std::vector<parent_ref>& refs);
  void check_parents(const std::vector<resource_config>& resources);
  // endpoint.json as JSON text; false (reported) when a value is not fit.
  bool append_json(const config_node& n, bool secret, std::string& out);
  // method, json and the paginator's body paths, which must agree.
  void check_body(const config_node& n, const endpoint_config& e);
  std::optional<paginator_config> read_paginator(const config_node& n);
  error_handler_config read_error_handler(const config_node& n);
  std::vector<response_action> read_response_actions(const config_node& n);
  // param_form: dlt's older `params: {name: {type: incremental, …}}`.
  std::optional<incremental_config> read_incremental(const config_node& n, bool param_form);

  std::string display_name_;
  fs::path base_dir_;
  std::vector<problem> problems_;
  std::unordered_set<std::string> reported_;  // problems_' texts, by hash
  secret_set secrets_;
  expansion_budget budget_;
  // Where each dependent resource first named its parent, by resource name.
  std::map<std::string, parent_ref, std::less<>> parent_refs_;
  // While read_endpoint reads a body: where its `{resources.…}` go.
  std::vector<parent_ref>* body_refs_ = nullptr;
};

}  // namespace restsync::config_reader

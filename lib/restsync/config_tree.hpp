// A YAML document as a plain tree in which every node remembers where it was
// written, so that errors can point at the right line after resource_defaults
// have been merged into each resource. Internal to the configuration loader.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace restsync {

// 1-based; line 0 means "no position known".
struct source_mark {
  int line = 0;
  int column = 0;
};

enum class node_kind { null, scalar, sequence, map };

struct config_key {
  std::string name;
  source_mark mark;
};

struct config_node {
  node_kind kind = node_kind::null;
  std::string scalar;  // as written, before any ${…} substitution
  source_mark mark;
  // Where the node sits in the file, as a person would name it:
  // `resources[2].endpoint.paginator`. Merged nodes keep the path they were
  // written at, so a mistake in resource_defaults is reported once, there.
  std::string path;
  std::vector<config_key> keys;    // map: keys[i] names items[i]
  std::vector<config_node> items;  // sequence elements or map values

  // The value under key in a map, or nullptr.
  const config_node* find(std::string_view key) const;
  config_node* find(std::string_view key);
  // Appends a map entry.
  config_node& add(config_key key, config_node value);
};

class yaml_syntax_error : public std::runtime_error {
 public:
  yaml_syntax_error(source_mark mark, const std::string& message)
      : std::runtime_error(message), mark_(mark) {}
  source_mark mark() const { return mark_; }

 private:
  source_mark mark_;
};

using tree_problem_sink =
    std::function<void(source_mark, const std::string& path, const std::string& message)>;

// Parses one YAML document. Throws yaml_syntax_error for malformed YAML;
// reports duplicate keys, keys that are not plain strings and extra documents
// to problems and keeps going. An empty document is a null root.
config_node parse_config_tree(const std::string& yaml, const tree_problem_sink& problems);

// overrides laid over defaults: maps merge key by key, recursively; anything
// else in overrides replaces the default. Two maps whose `type` keys differ
// (a cursor paginator over an offset default) do not merge: the override
// replaces the default whole.
config_node merge_nodes(const config_node& defaults, const config_node& overrides);

}  // namespace restsync

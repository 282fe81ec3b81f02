// A YAML document as a plain tree in which every node remembers where it was
// written, so that errors can point at the right line after resource_defaults
// have been merged into each resource. Internal to the configuration loader.
#pragma once

#include <cstddef>
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
  // A scalar written in quotes: a string whatever it reads as (`"5"`), where
  // a type matters (a JSON body).
  bool quoted = false;
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

// The most a configuration may hold once spelled out in full: every alias
// (`*name`) repeated where it is used, and resource_defaults merged into each
// resource. No real configuration comes near (the nine-resource seed holds a
// few hundred values in 3 KB); without a bound, a few hundred bytes of nested
// aliases expand until memory runs out (an alias bomb).
struct expansion_limits {
  std::size_t values = 100'000;  // scalars, lists and maps
  std::size_t bytes = 8u << 20;  // of text: scalars, keys and each value's path
};
inline constexpr expansion_limits config_expansion_limits{};

// A configuration past config_expansion_limits, at the value that went past.
class config_too_large : public std::runtime_error {
 public:
  config_too_large(source_mark mark, std::string path, const std::string& message)
      : std::runtime_error(message), mark_(mark), path_(std::move(path)) {}
  source_mark mark() const { return mark_; }
  const std::string& path() const { return path_; }

 private:
  source_mark mark_;
  std::string path_;
};

// Counts the values a configuration spells out, against config_expansion_limits.
class expansion_budget {
 public:
  // Counts values holding bytes of text, at mark and path. Throws
  // config_too_large past a limit, saying how the values came about.
  void charge(source_mark mark, const std::string& path, std::size_t values, std::size_t bytes,
              std::string_view how);
  // Counts every value of a tree built outside parse_config_tree (a resource
  // with resource_defaults merged in), at the tree's root.
  void charge_tree(const config_node& tree, std::string_view how);

 private:
  std::size_t values_ = 0;
  std::size_t bytes_ = 0;
};

using tree_problem_sink =
    std::function<void(source_mark, const std::string& path, const std::string& message)>;

// Parses one YAML document, charging every value to budget as aliases are
// expanded. Throws yaml_syntax_error for malformed YAML and config_too_large;
// reports duplicate keys, keys that are not plain strings and extra documents
// to problems and keeps going. An empty document is a null root.
config_node parse_config_tree(const std::string& yaml, const tree_problem_sink& problems,
                              expansion_budget& budget);

// overrides laid over defaults: maps merge key by key, recursively; anything
// else in overrides replaces the default. Two maps whose `type` keys differ
// (a cursor paginator over an offset default) do not merge: the override
// replaces the default whole.
config_node merge_nodes(const config_node& defaults, const config_node& overrides);

}  // namespace restsync

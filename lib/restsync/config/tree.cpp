#include "restsync/config/tree.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <unordered_map>

namespace restsync {

namespace {

source_mark to_mark(const YAML::Mark& m) {
  if (m.is_null()) return {};
  return {m.line + 1, m.column + 1};
}

std::string child_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

constexpr std::string_view alias_expansion =
    "once its aliases (`*name`) are spelled out (nested aliases multiply: an alias bomb)";

void count_tree(const config_node& n, std::size_t& values, std::size_t& bytes) {
  ++values;
  bytes += n.scalar.size() + n.path.size();
  for (const auto& k : n.keys) bytes += k.name.size();
  for (const auto& item : n.items) count_tree(item, values, bytes);
}

// yaml-cpp keeps an aliased node once however often it is used; here each use
// becomes a copy, so every value is charged before its children are made.
config_node convert(const YAML::Node& node, source_mark fallback, std::string path,
                    std::size_t key_bytes, const tree_problem_sink& problems,
                    expansion_budget& budget) {
  config_node out;
  out.path = std::move(path);
  out.mark = to_mark(node.Mark());
  // yaml-cpp places an empty value at the start of the next line; the key it
  // belongs to is where a reader looks.
  if (!node.IsDefined() || node.IsNull()) {
    if (fallback.line != 0) out.mark = fallback;
  }
  const std::size_t scalar_bytes = node.IsScalar() ? node.Scalar().size() : 0;
  budget.charge(out.mark, out.path, 1, key_bytes + scalar_bytes + out.path.size(), alias_expansion);
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out.kind = node_kind::null;
      break;
    case YAML::NodeType::Scalar:
      out.kind = node_kind::scalar;
      out.scalar = node.Scalar();
      // yaml-cpp tags a quoted (or literal block) scalar `!`, a plain one `?`.
      out.quoted = node.Tag() == "!";
      break;
    case YAML::NodeType::Sequence: {
      out.kind = node_kind::sequence;
      std::size_t i = 0;
      for (const auto& item : node) {
        out.items.push_back(
            convert(item, out.mark, fmt::format("{}[{}]", out.path, i), 0, problems, budget));
        ++i;
      }
      break;
    }
    case YAML::NodeType::Map: {
      out.kind = node_kind::map;
      std::unordered_map<std::string, int> first_line;
      for (auto it = node.begin(); it != node.end(); ++it) {
        const source_mark key_mark = to_mark(it->first.Mark());
        if (!it->first.IsScalar()) {
          problems(key_mark, out.path, "a key must be a plain name, not a list or a map");
          continue;
        }
        const std::string& name = it->first.Scalar();
        // By hash: a map of many keys must not cost their square in time.
        if (auto [first, fresh] = first_line.try_emplace(name, key_mark.line); !fresh) {
          problems(key_mark, out.path,
                   fmt::format("duplicate key `{}` (first given at line {}); keep only one", name,
                               first->second));
        }
        out.keys.push_back({name, key_mark});
        out.items.push_back(convert(it->second, key_mark, child_path(out.path, name), name.size(),
                                    problems, budget));
      }
      break;
    }
  }
  return out;
}

const config_node* find_type(const config_node& n) {
  const config_node* t = n.find("type");
  return t != nullptr && t->kind == node_kind::scalar ? t : nullptr;
}

}  // namespace

const config_node* config_node::find(std::string_view key) const {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].name == key) return &items[i];
  }
  return nullptr;
}

config_node* config_node::find(std::string_view key) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].name == key) return &items[i];
  }
  return nullptr;
}

config_node& config_node::add(config_key key, config_node value) {
  keys.push_back(std::move(key));
  items.push_back(std::move(value));
  return items.back();
}

void expansion_budget::charge(source_mark mark, const std::string& path, std::size_t values,
                              std::size_t bytes, std::string_view how) {
  values_ += values;
  bytes_ += bytes;
  const auto& limit = config_expansion_limits;
  if (values_ <= limit.values && bytes_ <= limit.bytes) return;
  const std::string size = values_ > limit.values
                               ? fmt::format("more than {} values", limit.values)
                               : fmt::format("more than {} MiB of text", limit.bytes >> 20);
  throw config_too_large(mark, path,
                         fmt::format("the configuration holds {} {}; no real configuration "
                                     "comes near, and spelling out more could exhaust memory",
                                     size, how));
}

void expansion_budget::charge_tree(const config_node& tree, std::string_view how) {
  std::size_t values = 0;
  std::size_t bytes = 0;
  count_tree(tree, values, bytes);
  charge(tree.mark, tree.path, values, bytes, how);
}

config_node parse_config_tree(const std::string& yaml, const tree_problem_sink& problems,
                              expansion_budget& budget) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(yaml);
  } catch (const YAML::ParserException& e) {
    throw yaml_syntax_error(to_mark(e.mark), e.msg);
  }
  if (documents.empty()) return {};
  for (std::size_t i = 1; i < documents.size(); ++i) {
    problems(to_mark(documents[i].Mark()), "",
             "a second YAML document starts here; the configuration is one document (a map "
             "with client, resources, …), so check the indentation above or remove the `---`");
  }
  return convert(documents.front(), {}, "", 0, problems, budget);
}

config_node merge_nodes(const config_node& defaults, const config_node& overrides) {
  if (defaults.kind != node_kind::map || overrides.kind != node_kind::map) return overrides;
  const config_node* default_type = find_type(defaults);
  const config_node* override_type = find_type(overrides);
  if (default_type != nullptr && override_type != nullptr &&
      default_type->scalar != override_type->scalar) {
    return overrides;
  }
  config_node out = overrides;
  for (std::size_t i = 0; i < defaults.keys.size(); ++i) {
    if (config_node* mine = out.find(defaults.keys[i].name)) {
      *mine = merge_nodes(defaults.items[i], *mine);
    } else {
      out.add(defaults.keys[i], defaults.items[i]);
    }
  }
  return out;
}

}  // namespace restsync

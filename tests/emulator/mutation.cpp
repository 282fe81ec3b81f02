#include "mutation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <stdexcept>

#include "generator.hpp"
#include "json_text.hpp"
#include "random.hpp"

namespace emulator {
namespace {

class op_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class op_kind { add, change, remove };
enum class position { front, back, spread };

struct op {
  std::size_t index = 0;
  op_kind kind = op_kind::add;
  std::size_t resource = 0;
  std::optional<std::uint64_t> count;
  position where = position::back;
  std::string record;             // compact object
  std::optional<std::string> id;  // key as text
  std::string fields;             // compact object
};

struct outcome {
  std::vector<std::string> added, changed, removed;  // raw JSON ids
};

constexpr std::uint64_t max_count = 10'000'000;

std::string label(const op& o) { return fmt::format("ops[{}]", o.index); }

std::string key_json(std::size_t resource, const std::string& key) {
  if (resources()[resource].key_kind == key_type::integer && is_integer_literal(key)) return key;
  return quote(key);
}

// Ids may come as numbers or strings; both match the key's text.
std::optional<std::string> key_text(std::string_view raw) {
  switch (kind_of(raw)) {
    case json_kind::number:
      return std::string(raw);
    case json_kind::string:
      return decode_string(raw);
    default:
      return std::nullopt;
  }
}

op parse_op(std::size_t index, std::string_view raw) {
  op o;
  o.index = index;
  auto members = split_object(raw);
  if (!members) throw op_error(fmt::format("ops[{}]: expected an object", index));
  std::map<std::string, std::string_view> m;
  for (auto& member : *members) m[member.key] = member.raw_value;
  auto string_of = [&](const char* name) -> std::optional<std::string> {
    auto it = m.find(name);
    if (it == m.end()) return std::nullopt;
    auto s = decode_string(it->second);
    if (!s) throw op_error(fmt::format("ops[{}]: \"{}\" must be a string", index, name));
    return s;
  };

  auto kind = string_of("op");
  if (!kind)
    throw op_error(fmt::format("ops[{}]: \"op\" is missing (add, change or remove)", index));
  if (*kind == "add") {
    o.kind = op_kind::add;
  } else if (*kind == "change") {
    o.kind = op_kind::change;
  } else if (*kind == "remove") {
    o.kind = op_kind::remove;
  } else {
    throw op_error(fmt::format("ops[{}]: unknown op '{}' (add, change or remove)", index, *kind));
  }

  auto resource = string_of("resource");
  if (!resource) throw op_error(fmt::format("ops[{}]: \"resource\" is missing", index));
  o.resource = find_resource_by_name(*resource);
  if (o.resource == resource_count)
    throw op_error(fmt::format("ops[{}]: unknown resource '{}'", index, *resource));

  for (auto& [name, value] : m) {
    if (name == "op" || name == "resource") continue;
    if (name == "count") {
      std::uint64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || end != value.data() + value.size() || n > max_count)
        throw op_error(fmt::format("ops[{}]: \"count\" must be a whole number from 0 to {}", index,
                                   max_count));
      o.count = n;
    } else if (name == "position") {
      auto p = decode_string(value);
      if (p == "front") {
        o.where = position::front;
      } else if (p == "back") {
        o.where = position::back;
      } else if (p == "spread" && o.kind == op_kind::remove) {
        o.where = position::spread;
      } else {
        throw op_error(
            fmt::format("ops[{}]: \"position\" must be {}", index,
                        o.kind == op_kind::remove ? "front, back or spread" : "front or back"));
      }
    } else if (name == "record" && o.kind == op_kind::add) {
      if (kind_of(value) != json_kind::object)
        throw op_error(fmt::format("ops[{}]: \"record\" must be an object", index));
      o.record = value;
    } else if (name == "id" && o.kind != op_kind::add) {
      o.id = key_text(value);
      if (!o.id) throw op_error(fmt::format("ops[{}]: \"id\" must be a number or a string", index));
    } else if (name == "fields" && o.kind == op_kind::change) {
      if (kind_of(value) != json_kind::object)
        throw op_error(fmt::format("ops[{}]: \"fields\" must be an object", index));
      o.fields = value;
    } else {
      throw op_error(fmt::format("ops[{}]: \"{}\" does not belong in a {} op", index, name, *kind));
    }
  }

  auto& info = resources()[o.resource];
  switch (o.kind) {
    case op_kind::add:
      if (info.singleton)
        throw op_error(fmt::format("ops[{}]: {} is a singleton; it always holds one record", index,
                                   info.name));
      if (o.count.has_value() == !o.record.empty())
        throw op_error(fmt::format("ops[{}]: add needs either \"count\" or \"record\"", index));
      break;
    case op_kind::change:
      if (o.id.has_value() == o.count.has_value())
        throw op_error(fmt::format(
            "ops[{}]: change needs either \"id\" (with \"fields\") or \"count\"", index));
      if (o.id && o.fields.empty())
        throw op_error(fmt::format("ops[{}]: change by \"id\" needs \"fields\"", index));
      if (o.count && !o.fields.empty())
        throw op_error(
            fmt::format("ops[{}]: \"fields\" go with \"id\", not with \"count\"", index));
      break;
    case op_kind::remove:
      if (info.singleton)
        throw op_error(fmt::format("ops[{}]: {} is a singleton; it always holds one record", index,
                                   info.name));
      if (o.id.has_value() == o.count.has_value())
        throw op_error(fmt::format("ops[{}]: remove needs either \"id\" or \"count\"", index));
      break;
  }
  return o;
}

std::size_t find_index(const collection& c, const std::string& key) {
  for (std::size_t i = 0; i < c.records.size(); ++i)
    if (c.records[i].key == key) return i;
  return c.records.size();
}

// Keeps the feed sorted by `when` after r (at index i) got a new one.
void reposition_feed(collection& c, std::size_t i) {
  auto r = std::move(c.records[i]);
  c.records.erase(c.records.begin() + static_cast<std::ptrdiff_t>(i));
  auto at = std::upper_bound(c.records.begin(), c.records.end(), r.when,
                             [](std::int64_t when, const record& x) { return when < x.when; });
  c.records.insert(at, std::move(r));
}

std::optional<std::int64_t> integer_member(std::string_view json, std::string_view name) {
  auto members = split_object(json);
  if (!members) return std::nullopt;
  for (auto& m : *members)
    if (m.key == name && is_integer_literal(m.raw_value)) {
      std::int64_t v = 0;
      auto [end, ec] =
          std::from_chars(m.raw_value.data(), m.raw_value.data() + m.raw_value.size(), v);
      if (ec == std::errc{}) return v;
    }
  return std::nullopt;
}

// Writes fields into the record at index i; the key cannot change.
void merge_fields(data_set& data, std::size_t resource, std::size_t i,
                  const std::vector<std::pair<std::string, std::string>>& fields, bool bump) {
  auto& c = data.at(resource);
  auto& info = resources()[resource];
  auto& r = c.records[i];
  auto members = split_object(r.json);
  std::vector<std::pair<std::string, std::string>> merged;
  for (auto& m : *members) merged.emplace_back(m.key, std::string(m.raw_value));
  auto set = [&](const std::string& name, const std::string& value) {
    for (auto& [k, v] : merged)
      if (k == name) {
        v = value;
        return;
      }
    merged.emplace_back(name, value);
  };
  bool sets_updated = false;
  for (auto& [name, value] : fields) {
    set(name, value);
    sets_updated = sets_updated || name == info.updated_field;
  }
  // A change the vendor records moves updatedAt past every value seen so far.
  if (bump && !info.updated_field.empty() && !sets_updated)
    set(std::string(info.updated_field), std::to_string(data.fresh_time(resource)));
  r.json = join_object(merged);
  locate_drift(resource, r);
  if (resource == accounts_feeds) {
    auto when = integer_member(r.json, "when");
    if (when && *when != r.when) {
      r.when = *when;
      reposition_feed(c, i);
    }
  }
}

// Storage indices of `count` records at paging positions chosen by where.
std::vector<std::size_t> pick(const data_set& data, std::size_t resource, std::size_t count,
                              position where, std::uint64_t rotation, quirk_set quirks) {
  auto n = data.size(resource);
  std::vector<std::size_t> picked;
  for (std::size_t k = 0; k < count; ++k) {
    std::size_t p = 0;
    switch (where) {
      case position::front:
        p = k;
        break;
      case position::back:
        p = n - count + k;
        break;
      case position::spread:
        p = static_cast<std::size_t>((static_cast<double>(k) + 0.5) * static_cast<double>(n) /
                                     static_cast<double>(count));
        p = (p + rotation) % n;
        break;
    }
    picked.push_back(data.index_at(resource, p, quirks));
  }
  return picked;
}

void apply_add(data_set& data, const op& o, outcome& out) {
  auto r = o.resource;
  auto& c = data.at(r);
  std::vector<record> fresh;
  if (o.count) {
    for (std::uint64_t k = 0; k < *o.count; ++k) {
      auto time = data.fresh_time(r);
      std::int64_t latest = time;
      auto rec = generate_record(r, data.seed(), c.next_serial++, time, &latest);
      rec.late = o.where == position::back && r != accounts_feeds;
      c.clock = std::max(c.clock, latest);
      fresh.push_back(std::move(rec));
    }
  } else {
    auto members = split_object(o.record);
    auto key_name = resources()[r].key;
    std::optional<std::string> key;
    for (auto& m : *members)
      if (m.key == key_name) {
        key = key_text(m.raw_value);
        if (!key)
          throw op_error(fmt::format("{}: the record's \"{}\" must be a number or a string",
                                     label(o), key_name));
      }
    if (key && find_index(c, *key) != c.records.size())
      throw op_error(fmt::format("{}: {} already has a record with id {}", label(o),
                                 resources()[r].name, key_json(r, *key)));
    record rec;
    rec.serial = c.next_serial++;
    if (key) {
      rec.json = o.record;
    } else {
      // The vendor assigns the key: put it first, as in generated records.
      key = key_for(r, data.seed(), rec.serial, data.fresh_time(r));
      rec.json = fmt::format("{{{}:{}{}{}", quote(key_name), key_json(r, *key),
                             members->empty() ? "" : ",", o.record.substr(1));
    }
    rec.key = *key;
    if (r == accounts_feeds) {
      auto when = integer_member(rec.json, "when");
      rec.when = when ? *when : data.fresh_time(r);
    }
    locate_drift(r, rec);
    fresh.push_back(std::move(rec));
  }

  for (auto& rec : fresh) out.added.push_back(key_json(r, rec.key));
  if (r == accounts_feeds) {
    for (auto& rec : fresh) {
      c.records.push_back(std::move(rec));
      reposition_feed(c, c.records.size() - 1);
    }
  } else if (o.where == position::front) {
    c.records.insert(c.records.begin(), std::make_move_iterator(fresh.begin()),
                     std::make_move_iterator(fresh.end()));
  } else {
    c.records.insert(c.records.end(), std::make_move_iterator(fresh.begin()),
                     std::make_move_iterator(fresh.end()));
  }
}

void apply_change(data_set& data, const op& o, quirk_set quirks, outcome& out) {
  auto r = o.resource;
  auto& c = data.at(r);
  if (o.id) {
    auto i = find_index(c, *o.id);
    if (i == c.records.size())
      throw op_error(fmt::format("{}: no {} record with id {}", label(o), resources()[r].name,
                                 key_json(r, *o.id)));
    auto members = split_object(o.fields);
    std::vector<std::pair<std::string, std::string>> fields;
    for (auto& m : *members) {
      if (m.key == resources()[r].key)
        throw op_error(fmt::format("{}: the key \"{}\" cannot be changed", label(o), m.key));
      fields.emplace_back(m.key, std::string(m.raw_value));
    }
    out.changed.push_back(key_json(r, *o.id));
    merge_fields(data, r, i, fields, true);
    return;
  }
  auto n = c.records.size();
  if (*o.count > n)
    throw op_error(fmt::format("{}: cannot change {} records, {} holds {}", label(o), *o.count,
                               resources()[r].name, n));
  if (*o.count == 0) return;
  // Consecutive generated changes rotate over the data set instead of
  // editing the same records again.
  auto rotation = mix(data.seed(), r, c.changes) % n;
  std::vector<std::string> keys;
  for (auto i : pick(data, r, *o.count, position::spread, rotation, quirks))
    keys.push_back(c.records[i].key);
  // Changing the feed's records can reorder it, so find each again by key.
  for (auto& key : keys) {
    auto i = find_index(c, key);
    auto fields = generated_change(r, data.seed(), c.records[i], ++c.changes, data.fresh_time(r));
    merge_fields(data, r, i, fields, false);
    out.changed.push_back(key_json(r, key));
  }
}

void apply_remove(data_set& data, const op& o, quirk_set quirks, outcome& out) {
  auto r = o.resource;
  auto& c = data.at(r);
  if (o.id) {
    auto i = find_index(c, *o.id);
    if (i == c.records.size())
      throw op_error(fmt::format("{}: no {} record with id {}", label(o), resources()[r].name,
                                 key_json(r, *o.id)));
    out.removed.push_back(key_json(r, *o.id));
    c.records.erase(c.records.begin() + static_cast<std::ptrdiff_t>(i));
    return;
  }
  auto n = c.records.size();
  if (*o.count > n)
    throw op_error(fmt::format("{}: cannot remove {} records, {} holds {}", label(o), *o.count,
                               resources()[r].name, n));
  auto picked = pick(data, r, *o.count, o.where, 0, quirks);
  std::vector<bool> doomed(n, false);
  for (auto i : picked) {
    doomed[i] = true;
    out.removed.push_back(key_json(r, c.records[i].key));
  }
  std::size_t i = 0;
  std::erase_if(c.records, [&](const record&) { return doomed[i++]; });
}

std::string id_list(const std::vector<std::string>& ids) {
  std::string out = "[";
  for (auto& id : ids) {
    if (out.size() > 1) out += ',';
    out += id;
  }
  return out + "]";
}

}  // namespace

mutation_result apply_mutations(data_set& data, std::string_view body, quirk_set quirks) {
  auto text = compact(body);
  if (!text) return {false, "body is not valid JSON"};
  auto top = split_object(*text);
  if (!top) return {false, "body must be an object {\"ops\":[...]}"};
  std::optional<std::vector<std::string_view>> raw_ops;
  for (auto& m : *top) {
    if (m.key != "ops") return {false, fmt::format("unknown key \"{}\" (expected \"ops\")", m.key)};
    raw_ops = split_array(m.raw_value);
    if (!raw_ops) return {false, "\"ops\" must be an array"};
  }
  if (!raw_ops) return {false, "\"ops\" is missing"};

  try {
    std::vector<op> ops;
    for (std::size_t i = 0; i < raw_ops->size(); ++i) ops.push_back(parse_op(i, (*raw_ops)[i]));

    // A failing op must leave no trace of the ones before it.
    std::map<std::size_t, collection> saved;
    if (ops.size() > 1)
      for (auto& o : ops)
        if (!saved.contains(o.resource)) saved.emplace(o.resource, data.at(o.resource));

    outcome out;
    try {
      for (auto& o : ops) {
        switch (o.kind) {
          case op_kind::add:
            apply_add(data, o, out);
            break;
          case op_kind::change:
            apply_change(data, o, quirks, out);
            break;
          case op_kind::remove:
            apply_remove(data, o, quirks, out);
            break;
        }
      }
    } catch (const op_error&) {
      for (auto& [r, c] : saved) data.at(r) = std::move(c);
      throw;
    }
    return {true, fmt::format("{{\"added\":{},\"changed\":{},\"removed\":{}}}", id_list(out.added),
                              id_list(out.changed), id_list(out.removed))};
  } catch (const op_error& e) {
    return {false, e.what()};
  }
}

}  // namespace emulator

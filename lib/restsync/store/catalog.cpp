#include "restsync/store/catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "restsync/store/stored_value.hpp"

namespace restsync::db {

void catalog::check_name(const std::string& resource) {
  if (resource.rfind("_rs_", 0) == 0)
    throw store_error("resource name '" + resource +
                      "' starts with _rs_, which is reserved for restsync's own tables");
}

bool table_exists(pqxx::transaction_base& tx, const sql::table_ref& t) {
  return !tx.exec_params(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND "
                "table_name = $2",
                t.schema, t.table)
              .empty();
}

table_state catalog::read(pqxx::transaction_base& tx, const table_spec& spec) {
  table_state st;
  st.primary_key = spec.primary_key;
  st.mode = spec.mode;
  check_name(spec.resource);
  st.ref = {schema_, fit_identifier(spec.resource)};
  st.hints = spec.hints;
  st.exists = table_exists(tx, st.ref);
  if (!st.exists) {
    st.schema.set_hints(spec.hints);
    return st;
  }
  std::vector<column_def> defs;
  for (const auto& row : tx.exec_params(
           "SELECT field, variant, column_name, type, field_name FROM " +
               sql::qualified(schema_, "_rs_columns") + " WHERE resource = $1 ORDER BY ordinal",
           spec.resource)) {
    auto type = parse_sql_type(row[3].c_str());
    if (!type)
      throw store_error(fmt::format("table {}: unknown column type '{}' in _rs_columns",
                                    st.ref.table, row[3].c_str()));
    std::string label = row[0].c_str();
    std::string field = row[4].is_null() ? label : pqxx::binarystring(row[4]).str();
    defs.push_back({row[2].c_str(), type->type, field, !row[1].as<std::string>().empty(),
                    type->precision, type->scale});
    st.labels.add(std::move(field), std::move(label));
  }
  apply_hints(tx, spec, st, defs);
  std::vector<std::string> others;
  for (const auto& row : tx.exec_params(
           "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND "
           "table_name = $2",
           st.ref.schema, st.ref.table)) {
    std::string name = row[0].c_str();
    bool known = std::any_of(defs.begin(), defs.end(), [&](auto& d) { return d.name == name; });
    if (!known && !is_reserved_column(name)) others.push_back(name);
  }
  try {
    st.schema = table_schema(defs, others);
  } catch (const std::exception& e) {
    throw store_error(
        fmt::format("table {}: inconsistent _rs_columns: {}", st.ref.table, e.what()));
  }
  st.schema.set_hints(spec.hints);
  resolve_keys(st);
  return st;
}

namespace {

const column_hint* hint_of(const std::vector<column_hint>& hints, const std::string& column) {
  auto it = std::find_if(hints.begin(), hints.end(),
                         [&](const column_hint& h) { return h.column == column; });
  return it == hints.end() ? nullptr : &*it;
}

std::string hint_name(const column_type& t) {
  switch (t.type) {
    case pg_type::timestamptz:
      return "timestamp";
    case pg_type::boolean:
      return "bool";
    case pg_type::double_precision:
      return "double";
    case pg_type::jsonb:
      return "json";
    case pg_type::numeric:
      return t.precision > 0
                 ? fmt::format("decimal, precision: {}, scale: {}", t.precision, t.scale)
                 : "decimal";
    default:
      return std::string(sql_name(t.type));
  }
}

// A value for a message: short, on one line.
std::string sample(std::string_view v) {
  std::string out;
  for (char c : v.substr(0, 40)) out += (c == '\n' || c == '\r') ? ' ' : c;
  if (v.size() > 40) out += "…";
  return out;
}

}  // namespace

void catalog::apply_hints(pqxx::transaction_base& tx, const table_spec& spec, table_state& st,
                          std::vector<column_def>& defs) {
  const auto table = sql::qualified(st.ref.schema, st.ref.table);
  // NOT NULL columns, but those of the primary key (which keeps them so).
  std::set<std::string> not_null;
  for (const auto& row : tx.exec_params(
           "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND "
           "a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull AND NOT EXISTS (SELECT 1 FROM "
           "pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = "
           "ANY(i.indkey))",
           table))
    not_null.insert(row[0].c_str());
  bool session_set = false;
  for (auto& def : defs) {
    if (def.variant) continue;
    const auto* h = hint_of(spec.hints, def.name);
    if (h != nullptr && h->type && def.full_type() != *h->type) {
      const auto& to = *h->type;
      for (const auto& v : defs) {
        if (v.variant && v.field == def.field && v.type == to.type)
          throw store_error(fmt::format(
              "table {}: the hint `data_type: {}` on column {} would make it the type of its "
              "variant column {}; nothing was changed. Move that column's values into {} "
              "yourself and drop it (and its row in _rs_columns), or remove the hint",
              st.ref.table, hint_name(to), def.name, v.name, def.name));
      }
      if (!session_set) {
        // How the values read back (convert_stored expects it), for this
        // transaction only.
        tx.exec("SET LOCAL TimeZone = 'UTC'");
        tx.exec("SET LOCAL DateStyle = 'ISO, YMD'");
        session_set = true;
      }
      const auto col = quote_ident(def.name);
      sql::binary_text_array olds, news;
      std::int64_t total = 0, misfits = 0;
      std::string example;
      for (const auto& row : tx.exec("SELECT " + col + "::text, count(*) FROM " + table +
                                     " WHERE " + col + " IS NOT NULL GROUP BY 1")) {
        const std::string_view old(row[0].c_str(), row[0].size());
        const auto n = row[1].as<std::int64_t>();
        total += n;
        auto converted = convert_stored(old, def.full_type(), to);
        if (!converted) {
          misfits += n;
          if (example.empty()) example = sample(old);
          continue;
        }
        if (*converted != old) {
          olds.append(old);
          news.append(*converted);
        }
      }
      if (misfits > 0)
        throw store_error(fmt::format(
            "table {}: the hint `data_type: {}` cannot convert column {} ({}) in place: {} of "
            "its {} values do not fit, such as `{}`; nothing was changed. Remove the hint or "
            "choose a data_type that holds them (text holds every value); or empty the column "
            "(UPDATE {} SET {} = NULL) or the table and sync again with --full-refresh, so "
            "that values that do not fit go to a variant column as new ones do",
            st.ref.table, hint_name(to), def.name, sql_type(def.full_type()), misfits, total,
            example, table, col));
      if (def.type != pg_type::text)
        tx.exec("ALTER TABLE " + table + " ALTER COLUMN " + col + " TYPE text USING " + col +
                "::text");
      tx.exec_params("UPDATE " + table + " AS t SET " + col + " = m.n FROM unnest($1::text[], " +
                         "$2::text[]) AS m(o, n) WHERE t." + col + " = m.o",
                     pqxx::binarystring(olds.finish()), pqxx::binarystring(news.finish()));
      const auto type = sql_type(to);
      tx.exec("ALTER TABLE " + table + " ALTER COLUMN " + col + " TYPE " + type + " USING " + col +
              "::" + type);
      tx.exec_params("UPDATE " + sql::qualified(schema_, "_rs_columns") +
                         " SET type = $1 WHERE resource = $2 AND column_name = $3 AND variant = ''",
                     type, spec.resource, def.name);
      st.converted.push_back(
          fmt::format("{}: {} → {} ({} values)", def.name, sql_type(def.full_type()), type, total));
      def.type = to.type;
      def.precision = to.precision;
      def.scale = to.scale;
    }
    const bool key = std::find(spec.primary_key.begin(), spec.primary_key.end(), def.field) !=
                     spec.primary_key.end();
    if (key) continue;
    const bool wanted = h != nullptr && h->not_null;
    if (wanted && !not_null.count(def.name)) {
      require_not_null(tx, st, def, false);
      st.converted.push_back(def.name + ": NOT NULL set (nullable: false)");
    } else if (!wanted && not_null.count(def.name)) {
      tx.exec("ALTER TABLE " + table + " ALTER COLUMN " + quote_ident(def.name) + " DROP NOT NULL");
      st.converted.push_back(def.name + ": NOT NULL dropped (no hint says nullable: false)");
    }
  }
}

void catalog::require_not_null(pqxx::transaction_base& tx, const table_state& st,
                               const column_def& column, bool table_is_new) {
  const auto col = quote_ident(column.name);
  for (const auto* ref : {&st.ref, st.staging ? &*st.staging : nullptr}) {
    if (ref == nullptr) continue;
    const auto table = sql::qualified(ref->schema, ref->table);
    if (!table_is_new) {
      const auto nulls = tx.exec("SELECT count(*) FROM " + table + " WHERE " + col + " IS NULL")
                             .at(0)
                             .at(0)
                             .as<std::int64_t>();
      if (nulls > 0)
        throw store_error(fmt::format(
            "table {}: column {} is hinted `nullable: false`, but {} of the table's rows have "
            "no value there; nothing was changed. Remove `nullable: false`, or fill those rows "
            "(UPDATE {} SET {} = … WHERE {} IS NULL) or delete them",
            ref->table, column.name, nulls, table, col, col));
    }
    tx.exec("ALTER TABLE " + table + " ALTER COLUMN " + col + " SET NOT NULL");
  }
}

void catalog::load(pqxx::transaction_base& tx, const table_spec& spec) {
  // The table's columns as the thread that served the last run left them;
  // restored if this transaction fails.
  if (!undo_.count(spec.resource)) undo_.emplace(spec.resource, tables_[spec.resource]);
  tables_[spec.resource] = read(tx, spec);
}

void catalog::resolve_keys(table_state& st) {
  st.required_columns.clear();
  for (const auto& h : st.hints) {
    if (!h.not_null) continue;
    const auto& all = st.schema.columns();
    for (size_t i = 0; i < all.size(); ++i) {
      if (!all[i].variant && all[i].name == h.column) st.required_columns.push_back(i);
    }
  }
  st.key_columns.clear();
  for (const auto& field : st.primary_key) {
    int idx = st.schema.main_column(field);
    if (idx < 0)
      throw store_error(
          fmt::format("table {}: no column for primary key field '{}'", st.ref.table, field));
    st.key_columns.push_back(static_cast<size_t>(idx));
  }
}

table_state& catalog::for_change(const std::string& resource) {
  auto it = tables_.find(resource);
  if (it == tables_.end())
    throw store_error("resource '" + resource + "' was not prepared before writing");
  if (!undo_.count(resource)) undo_.emplace(resource, it->second);
  return it->second;
}

table_state* catalog::find(const std::string& resource) {
  auto it = tables_.find(resource);
  return it == tables_.end() ? nullptr : &it->second;
}

void catalog::rolled_back() {
  for (auto& [name, state] : undo_) tables_[name] = std::move(state);
  undo_.clear();
}

void catalog::create_tables(pqxx::transaction_base& tx, table_state& st,
                            const std::string& resource, std::int64_t offset) {
  // The key columns' types come from the first records, so the table
  // is created with the first page that has any.
  std::vector<column_def> keys;
  for (const auto& field : st.primary_key) {
    int idx = st.schema.main_column(field);
    if (idx < 0)
      throw store_error(fmt::format("{}: the records at offset {} have no primary key field '{}'",
                                    resource, offset, field));
    keys.push_back(st.schema.columns()[static_cast<size_t>(idx)]);
  }
  tx.exec(sql::create_table(st.ref, keys));
  if (st.staging) tx.exec(sql::create_table(*st.staging, keys));
  st.exists = true;
}

std::vector<hint_misfit> catalog::fit(pqxx::transaction_base& tx, const std::string& resource,
                                      table_state& st,
                                      std::span<const rapidjson::Value* const> records,
                                      std::int64_t offset) {
  // Columns a page needs are added before any row is written; the rows
  // of earlier pages still waiting for their statement get NULL there.
  auto added = st.schema.plan(records);
  const bool is_new = !st.exists;
  if (!st.exists) create_tables(tx, st, resource, offset);
  if (!added.empty()) {
    tx.exec(sql::add_columns(st.ref, added));
    if (st.staging) tx.exec(sql::add_columns(*st.staging, added));
    for (const auto& c : added) {
      const auto* h = c.variant ? nullptr : st.schema.hint(c.name);
      if (h != nullptr && h->not_null &&
          std::find(st.primary_key.begin(), st.primary_key.end(), c.field) == st.primary_key.end())
        require_not_null(tx, st, c, is_new);
    }
    persist_columns(tx, resource, st);
  }
  resolve_keys(st);
  return st.schema.take_misfits();
}

void catalog::persist_columns(pqxx::transaction_base& tx, const std::string& resource,
                              table_state& st) {
  const auto& all = st.schema.columns();
  auto ordinal_of = [&](const column_def& c) {
    return static_cast<int>(std::find(all.begin(), all.end(), c) - all.begin());
  };
  for (const auto& c : all) {
    tx.exec_params(
        "INSERT INTO " + sql::qualified(schema_, "_rs_columns") +
            " (resource, field, variant, column_name, type, ordinal, field_name) VALUES "
            "($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (resource, field, variant) DO NOTHING",
        resource, st.labels.label(c.field), c.variant ? std::string(variant_tag(c.type)) : "",
        c.name, sql_type(c.full_type()), ordinal_of(c), pqxx::binarystring(c.field));
  }
}

void catalog::start_run(pqxx::transaction_base& tx, const std::string& resource) {
  auto* found = find(resource);
  if (found == nullptr) return;
  std::optional<sql::table_ref> staging;
  if (found->mode == write_mode::replace) {
    // A staging table a crashed run left behind is dropped; this run
    // starts its own.
    staging = sql::table_ref{schema_, fit_identifier("_rs_stage_" + resource)};
    tx.exec("DROP TABLE IF EXISTS " + sql::qualified(staging->schema, staging->table));
    if (found->exists)
      tx.exec("CREATE TABLE " + sql::qualified(staging->schema, staging->table) + " (LIKE " +
              sql::qualified(found->ref.schema, found->ref.table) +
              " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)");
  }
  auto& st = for_change(resource);
  st.staging = staging;
  st.upsert_columns = 0;  // the statement names the table written to
  st.misfits_logged.clear();
}

std::int64_t catalog::swap_in(pqxx::transaction_base& tx, const table_state& st) {
  if (!st.exists) return 0;
  std::string cols;
  for (const auto& c : st.schema.columns()) cols += quote_ident(c.name) + ", ";
  cols += "\"_rs_synced_at\"";
  auto target = sql::qualified(st.ref.schema, st.ref.table);
  // DELETE, not TRUNCATE: readers keep seeing the old rows until the commit
  // (TRUNCATE is not MVCC-safe for snapshots taken before it).
  tx.exec("DELETE FROM " + target);
  auto r = tx.exec("INSERT INTO " + target + " (" + cols + ") SELECT " + cols + " FROM " +
                   sql::qualified(st.staging->schema, st.staging->table));
  return static_cast<std::int64_t>(r.affected_rows());
}

void catalog::end_run(pqxx::transaction_base& tx, const std::string& resource) {
  auto* found = find(resource);
  if (found == nullptr || !found->staging) return;
  tx.exec("DROP TABLE IF EXISTS " + sql::qualified(found->staging->schema, found->staging->table));
  auto& st = for_change(resource);
  st.staging.reset();
  st.upsert_columns = 0;
}

}  // namespace restsync::db

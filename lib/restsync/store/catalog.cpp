#include "restsync/store/catalog.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace restsync::db {

void catalog::check_name(const std::string& resource) {
  if (resource.rfind("_rs_", 0) == 0)
    throw store_error("resource name '" + resource +
                      "' starts with _rs_, which is reserved for restsync's own tables");
}

table_state catalog::read(pqxx::transaction_base& tx, const table_spec& spec) {
  table_state st;
  st.primary_key = spec.primary_key;
  st.mode = spec.mode;
  check_name(spec.resource);
  st.ref = {schema_, fit_identifier(spec.resource)};
  auto exists = tx.exec_params(
      "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2",
      st.ref.schema, st.ref.table);
  st.exists = !exists.empty();
  if (!st.exists) return st;
  std::vector<column_def> defs;
  for (const auto& row : tx.exec_params(
           "SELECT field, variant, column_name, type, field_name FROM " +
               sql::qualified(schema_, "_rs_columns") + " WHERE resource = $1 ORDER BY ordinal",
           spec.resource)) {
    auto type = parse_pg_type(row[3].c_str());
    if (!type)
      throw store_error(fmt::format("table {}: unknown column type '{}' in _rs_columns",
                                    st.ref.table, row[3].c_str()));
    std::string label = row[0].c_str();
    std::string field = row[4].is_null() ? label : pqxx::binarystring(row[4]).str();
    defs.push_back({row[2].c_str(), *type, field, !row[1].as<std::string>().empty()});
    st.labels.add(std::move(field), std::move(label));
  }
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
  resolve_keys(st);
  return st;
}

void catalog::load(pqxx::transaction_base& tx, const table_spec& spec) {
  // The table's columns as the thread that served the last run left them;
  // restored if this transaction fails.
  if (!undo_.count(spec.resource)) undo_.emplace(spec.resource, tables_[spec.resource]);
  tables_[spec.resource] = read(tx, spec);
}

void catalog::resolve_keys(table_state& st) {
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

void catalog::fit(pqxx::transaction_base& tx, const std::string& resource, table_state& st,
                  std::span<const rapidjson::Value* const> records, std::int64_t offset) {
  // Columns a page needs are added before any row is written; the rows
  // of earlier pages still waiting for their statement get NULL there.
  auto added = st.schema.plan(records);
  if (!st.exists) create_tables(tx, st, resource, offset);
  if (!added.empty()) {
    tx.exec(sql::add_columns(st.ref, added));
    if (st.staging) tx.exec(sql::add_columns(*st.staging, added));
    persist_columns(tx, resource, st);
  }
  resolve_keys(st);
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
        c.name, std::string(sql_name(c.type)), ordinal_of(c), pqxx::binarystring(c.field));
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

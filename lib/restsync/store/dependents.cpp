#include "restsync/store/dependents.hpp"

#include <fmt/format.h>

#include <map>

#include "restsync/store/catalog.hpp"
#include "restsync/store/naming.hpp"
#include "restsync/store/sql.hpp"

namespace restsync::db {

namespace {

// The columns of resource's table that hold each field (_rs_columns), the
// main one first: `COALESCE(to_jsonb(a), to_jsonb(a__v_text))` per field,
// or "" for a field without one.
std::vector<std::string> value_expressions(pqxx::transaction_base& tx, const std::string& schema,
                                           const std::string& resource,
                                           const std::vector<std::string>& fields,
                                           const std::string& alias) {
  std::map<std::string, std::vector<std::string>> columns;
  for (const auto& row :
       tx.exec_params("SELECT field, column_name FROM " + sql::qualified(schema, "_rs_columns") +
                          " WHERE resource = $1 ORDER BY (variant <> ''), ordinal",
                      resource)) {
    columns[row[0].c_str()].push_back(row[1].c_str());
  }
  std::vector<std::string> out;
  for (const auto& f : fields) {
    auto it = columns.find(f);
    if (it == columns.end()) {
      out.emplace_back();
      continue;
    }
    std::string e;
    for (const auto& c : it->second)
      e += fmt::format("{}to_jsonb({}.{})", e.empty() ? "" : ", ", alias, quote_ident(c));
    out.push_back(it->second.size() == 1 ? e : "COALESCE(" + e + ")");
  }
  return out;
}

}  // namespace

parent_rows read_parent_rows(pqxx::transaction_base& tx, const std::string& schema,
                             const std::string& resource, const std::vector<std::string>& fields) {
  parent_rows out;
  auto synced = tx.exec_params(
      "SELECT 1 FROM " + sql::qualified(schema, "_rs_state") +
          " WHERE resource = $1 AND parent_value = '' AND last_success_at IS NOT NULL",
      resource);
  out.synced = !synced.empty();
  const sql::table_ref t{schema, fit_identifier(resource)};
  if (!table_exists(tx, t)) {
    out.missing = fields;
    return out;
  }
  auto exprs = value_expressions(tx, schema, resource, fields, "p");
  std::string select;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (exprs[i].empty()) {
      out.missing.push_back(fields[i]);
      continue;
    }
    select += fmt::format("{}({})::text", select.empty() ? "" : ", ", exprs[i]);
  }
  if (!out.missing.empty()) return out;
  for (const auto& row :
       tx.exec("SELECT DISTINCT " + select + " FROM " + sql::qualified(t.schema, t.table) +
               " p WHERE p.\"_rs_deleted_at\" IS NULL ORDER BY 1")) {
    std::vector<std::optional<std::string>> values;
    for (const auto& f : row)
      values.push_back(f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str()));
    out.rows.push_back(std::move(values));
  }
  return out;
}

std::int64_t mark_orphans(pqxx::transaction_base& tx, const std::string& schema,
                          const orphan_rule& rule) {
  const sql::table_ref child{schema, fit_identifier(rule.resource)};
  const sql::table_ref parent{schema, fit_identifier(rule.parent)};
  if (!table_exists(tx, child) || !table_exists(tx, parent)) return 0;
  std::vector<std::string> parent_fields, child_fields;
  for (const auto& [p, c] : rule.fields) {
    parent_fields.push_back(p);
    child_fields.push_back(c);
  }
  auto pe = value_expressions(tx, schema, rule.parent, parent_fields, "p");
  auto ce = value_expressions(tx, schema, rule.resource, child_fields, "c");
  std::string match;
  for (std::size_t i = 0; i < pe.size(); ++i) {
    // A field either table lacks: nothing to compare, nothing to mark.
    if (pe[i].empty() || ce[i].empty()) return 0;
    match += fmt::format("{}{} = {}", i ? " AND " : "", pe[i], ce[i]);
  }
  const auto target = sql::qualified(child.schema, child.table);
  const auto orphaned =
      fmt::format("NOT EXISTS (SELECT 1 FROM {} p WHERE p.\"_rs_deleted_at\" IS NULL AND {})",
                  sql::qualified(parent.schema, parent.table), match);
  auto r =
      tx.exec(rule.hard_delete ? fmt::format("DELETE FROM {} c WHERE {}", target, orphaned)
                               : fmt::format("UPDATE {} c SET \"_rs_deleted_at\" = now() WHERE "
                                             "c.\"_rs_deleted_at\" IS NULL AND {}",
                                             target, orphaned));
  return static_cast<std::int64_t>(r.affected_rows());
}

}  // namespace restsync::db

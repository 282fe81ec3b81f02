#include "pg.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <pqxx/pqxx>
#include <stdexcept>

namespace rs_test {

namespace {

std::string admin_conninfo() { return ""; }  // PG* environment

std::string q(const std::string& ident) {
  std::string out = "\"";
  for (char c : ident) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

std::string lit(pqxx::connection& c, const std::string& s) { return c.quote(s); }

}  // namespace

scratch_database::scratch_database() {
  static std::atomic<int> counter{0};
  name_ = "rs_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
          std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000);
  pqxx::connection c(admin_conninfo());
  pqxx::nontransaction tx(c);
  tx.exec("CREATE DATABASE " + q(name_));
}

scratch_database::~scratch_database() {
  try {
    pqxx::connection c(admin_conninfo());
    pqxx::nontransaction tx(c);
    tx.exec("DROP DATABASE IF EXISTS " + q(name_) + " WITH (FORCE)");
  } catch (...) {
  }
}

std::string scratch_database::conninfo() const { return "dbname=" + name_; }

std::vector<std::vector<std::string>> scratch_database::query(const std::string& sql) const {
  pqxx::connection c(conninfo());
  pqxx::work tx(c);
  auto r = tx.exec(sql);
  tx.commit();
  std::vector<std::vector<std::string>> out;
  for (const auto& row : r) {
    std::vector<std::string> cells;
    for (const auto& f : row) cells.push_back(f.is_null() ? "" : f.c_str());
    out.push_back(std::move(cells));
  }
  return out;
}

void scratch_database::alter(const std::string& clause) const {
  pqxx::connection c(admin_conninfo());
  pqxx::nontransaction tx(c);
  tx.exec("ALTER DATABASE " + q(name_) + " " + clause);
}

int scratch_database::end_sessions() const {
  pqxx::connection c(admin_conninfo());
  pqxx::nontransaction tx(c);
  const std::string sql =
      "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE datname = " +
      lit(c, name_) + " AND pid <> pg_backend_pid()";
  auto r = tx.exec(sql);
  return r[0][0].as<int>();
}

std::string scratch_database::scalar(const std::string& sql) const {
  auto rows = query(sql);
  if (rows.empty() || rows[0].empty()) throw std::runtime_error("no value from: " + sql);
  return rows[0][0];
}

std::vector<std::string> scratch_database::diff_with_truth(const std::string& schema,
                                                           const std::string& resource,
                                                           const std::string& truth_json,
                                                           const std::vector<std::string>& key,
                                                           bool subset_only) const {
  std::vector<std::string> out;
  for (const auto& d : differences(schema, resource, truth_json, key, subset_only, 20))
    out.push_back(resource + " key " + d[0] + ":\n  table: " + d[1] + "\n  truth: " + d[2]);
  return out;
}

std::vector<std::string> scratch_database::differing_keys(const std::string& schema,
                                                          const std::string& resource,
                                                          const std::string& truth_json,
                                                          const std::vector<std::string>& key,
                                                          bool subset_only) const {
  std::vector<std::string> out;
  for (const auto& d : differences(schema, resource, truth_json, key, subset_only, 0))
    out.push_back(d[0]);
  return out;
}

std::vector<std::vector<std::string>> scratch_database::differences(
    const std::string& schema, const std::string& resource, const std::string& truth_json,
    const std::vector<std::string>& key, bool subset_only, int limit) const {
  pqxx::connection c(conninfo());
  pqxx::work tx(c);
  // Each field's value is whichever of its columns (main or variant) is not
  // NULL, turned back into JSON; PostgreSQL compares the two documents.
  std::map<std::string, std::vector<std::string>> columns_of;
  std::string table;
  if (tx.exec_params("SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND "
                     "table_name = $2",
                     schema, resource)
          .empty()) {
    if (subset_only) return {};
    return {{"*", "<no table " + schema + "." + resource + ">", "<records>"}};
  }
  // A timestamptz column (a `timestamp` hint) holds the API's epoch seconds:
  // it compares as them, to the microsecond.
  for (const auto& row : tx.exec_params("SELECT field, column_name, type FROM " + q(schema) +
                                            "._rs_columns WHERE resource = $1 ORDER BY ordinal",
                                        resource)) {
    const std::string col = "t." + q(row[1].c_str());
    columns_of[row[0].c_str()].push_back(
        std::string(row[2].c_str()) == "timestamptz" ? "extract(epoch from " + col + ")" : col);
  }
  table = q(schema) + "." + q(resource);
  std::string pairs;
  for (const auto& [field, cols] : columns_of) {
    std::string expr = "COALESCE(";
    for (size_t i = 0; i < cols.size(); ++i)
      expr += (i ? ", " : "") + std::string("to_jsonb(") + cols[i] + ")";
    expr += ")";
    if (!pairs.empty()) pairs += ", ";
    pairs += "(" + lit(c, field) + ", " + expr + ")";
  }
  std::string key_expr_table, key_expr_truth;
  for (const auto& k : key) {
    key_expr_table +=
        (key_expr_table.empty() ? "" : " || '|' || ") + std::string("(doc->>") + lit(c, k) + ")";
  }
  key_expr_truth = key_expr_table;
  std::string sql =
      "WITH live AS (SELECT (SELECT COALESCE(jsonb_object_agg(k, v), '{}'::jsonb) FROM (VALUES " +
      (pairs.empty() ? std::string("(NULL::text, NULL::jsonb)") : pairs) +
      ") AS x(k, v) WHERE v IS NOT NULL AND v <> 'null'::jsonb) AS doc FROM " + table +
      " t WHERE t._rs_deleted_at IS NULL), "
      "truth AS (SELECT (SELECT COALESCE(jsonb_object_agg(key, value), '{}'::jsonb) FROM "
      "jsonb_each(r) WHERE value <> 'null'::jsonb) AS doc FROM jsonb_array_elements($1::jsonb) "
      "r), "
      "l AS (SELECT " +
      key_expr_table +
      " AS k, doc FROM live), "
      "r AS (SELECT " +
      key_expr_truth +
      " AS k, doc FROM truth) "
      "SELECT COALESCE(l.k, r.k), l.doc::text, r.doc::text FROM l FULL JOIN r ON l.k = r.k "
      "WHERE l.doc IS DISTINCT FROM r.doc" +
      std::string(subset_only ? " AND l.k IS NOT NULL" : "") + " ORDER BY 1" +
      (limit > 0 ? " LIMIT " + std::to_string(limit) : std::string());
  std::vector<std::vector<std::string>> out;
  for (const auto& row : tx.exec_params(sql, truth_json)) {
    out.push_back({row[0].is_null() ? "?" : row[0].c_str(),
                   row[1].is_null() ? "<missing in table>" : row[1].c_str(),
                   row[2].is_null() ? "<not in truth>" : row[2].c_str()});
  }
  return out;
}

}  // namespace rs_test

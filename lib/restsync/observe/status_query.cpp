#include "restsync/observe/status_query.hpp"

#include <fmt/format.h>

#include <map>
#include <pqxx/pqxx>

#include "restsync/store/naming.hpp"
#include "restsync/store/run_journal.hpp"
#include "restsync/store/sql.hpp"

namespace restsync::service {

std::vector<resource_status> query_status(const config& cfg) {
  std::vector<resource_status> out;
  std::map<std::string, std::size_t> index;
  for (const auto& rc : cfg.resources) {
    resource_status r;
    r.name = rc.name;
    r.max_age = rc.max_age;
    index.emplace(rc.name, out.size());
    out.push_back(std::move(r));
  }
  auto status_of = [&](const std::string& name) -> resource_status& {
    auto [it, fresh] = index.emplace(name, out.size());
    if (fresh) {
      resource_status r;
      r.name = name;
      r.configured = false;
      out.push_back(std::move(r));
    }
    return out[it->second];
  };

  try {
    pqxx::connection conn(cfg.destination.connection);
    pqxx::read_transaction tx(conn);
    const std::string& schema = cfg.destination.schema;
    auto present = [&](std::string_view table) {
      return tx.exec_params1("SELECT to_regclass($1) IS NOT NULL", sql::qualified(schema, table))[0]
          .as<bool>();
    };
    const db::run_journal journal(schema);
    for (auto& st : journal.status_states(tx)) {
      auto& r = status_of(st.resource);
      r.last_success_at = std::move(st.last_success_at);
      r.age_seconds = st.age_seconds;
      r.last_error_at = std::move(st.last_error_at);
      r.last_error = std::move(st.last_error);
      r.last_complete_scan_at = std::move(st.last_complete_scan_at);
      r.cursor = std::move(st.cursor);
    }
    for (auto& [resource, run] : journal.last_runs(tx))
      status_of(resource).last_run = std::move(run);
    for (auto& [resource, holder] : journal.lease_holders(tx))
      status_of(resource).lease_holder = std::move(holder);
    for (auto& r : out) {
      const std::string table = fit_identifier(r.name);
      if (!present(table)) continue;
      // Rows a complete scan no longer saw stay with _rs_deleted_at set;
      // they are not part of what the API holds.
      auto counts = tx.exec1(
          "SELECT count(*) FILTER (WHERE _rs_deleted_at IS NULL), "
          "count(*) FILTER (WHERE _rs_deleted_at IS NOT NULL) FROM " +
          sql::qualified(schema, table));
      r.rows = counts[0].as<std::int64_t>();
      r.deleted_rows = counts[1].as<std::int64_t>();
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(
        fmt::format("reading the sync state from PostgreSQL (schema {}) "
                    "failed: {}",
                    cfg.destination.schema, e.what()));
  }
  return out;
}

}  // namespace restsync::service

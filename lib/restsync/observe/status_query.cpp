#include "restsync/observe/status_query.hpp"

#include <fmt/format.h>

#include <map>
#include <pqxx/pqxx>

#include "restsync/store/naming.hpp"
#include "restsync/store/sql.hpp"

namespace restsync::service {

namespace {

std::optional<std::string> text(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str());
}

// Times as ISO-8601 UTC, whatever the session's TimeZone.
std::string utc(std::string_view column) {
  return fmt::format("to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", column);
}

}  // namespace

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
    if (present("_rs_state")) {
      for (const auto& row : tx.exec(fmt::format(
               "SELECT resource, {}, extract(epoch FROM now() - last_success_at)::float8, {}, "
               "last_error, {}, cursor_value FROM {} ORDER BY resource",
               utc("last_success_at"), utc("last_error_at"), utc("last_complete_scan_at"),
               sql::qualified(schema, "_rs_state")))) {
        auto& r = status_of(row[0].c_str());
        r.last_success_at = text(row[1]);
        if (!row[2].is_null()) r.age_seconds = row[2].as<double>();
        r.last_error_at = text(row[3]);
        r.last_error = text(row[4]);
        r.last_complete_scan_at = text(row[5]);
        r.cursor = text(row[6]);
      }
    }
    if (present("_rs_runs")) {
      for (const auto& row : tx.exec(fmt::format(
               "SELECT DISTINCT ON (resource) resource, id, status, {}, {}, "
               "extract(epoch FROM coalesce(finished_at, now()) - started_at)::float8, pages, "
               "records, inserted, updated, unchanged, requests, retries, rate_limited, "
               "complete_scan, error, "
               // Columns a database made by an older version may lack.
               "coalesce((to_jsonb(r) ->> 'deleted')::bigint, 0), "
               "coalesce((to_jsonb(r) ->> 'rescans')::bigint, 0) "
               "FROM {} r ORDER BY resource, id DESC",
               utc("started_at"), utc("finished_at"), sql::qualified(schema, "_rs_runs")))) {
        auto& r = status_of(row[0].c_str());
        run_row run;
        run.id = row[1].as<std::int64_t>();
        run.status = row[2].c_str();
        run.started_at = row[3].c_str();
        run.finished_at = text(row[4]);
        if (!row[5].is_null()) run.seconds = row[5].as<double>();
        run.pages = row[6].as<std::int64_t>();
        run.records = row[7].as<std::int64_t>();
        run.inserted = row[8].as<std::int64_t>();
        run.updated = row[9].as<std::int64_t>();
        run.unchanged = row[10].as<std::int64_t>();
        run.requests = row[11].as<std::int64_t>();
        run.retries = row[12].as<std::int64_t>();
        run.rate_limited = row[13].as<std::int64_t>();
        run.complete_scan = row[14].as<bool>();
        run.error = text(row[15]);
        run.deleted = row[16].as<std::int64_t>();
        run.rescans = row[17].as<std::int64_t>();
        r.last_run = std::move(run);
      }
    }
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

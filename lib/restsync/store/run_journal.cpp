#include "restsync/store/run_journal.hpp"

#include <fmt/format.h>

#include "restsync/store/naming.hpp"
#include "restsync/store/sql.hpp"

namespace restsync::db {

namespace {

std::string_view status_name(run_status s) {
  switch (s) {
    case run_status::running:
      return "running";
    case run_status::succeeded:
      return "succeeded";
    case run_status::failed:
      return "failed";
    case run_status::interrupted:
      return "interrupted";
    case run_status::abandoned:
      return "abandoned";
  }
  return "unknown";
}

std::optional<std::string> text(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str());
}

// Times as ISO-8601 UTC, whatever the session's TimeZone.
std::string utc(std::string_view column) {
  return fmt::format("to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", column);
}

}  // namespace

std::string run_journal::table(std::string_view name) const {
  return sql::qualified(schema_, name);
}

bool run_journal::present(pqxx::transaction_base& tx, std::string_view name) const {
  return tx.exec_params1("SELECT to_regclass($1) IS NOT NULL", table(name))[0].as<bool>();
}

void run_journal::create_tables(pqxx::transaction_base& tx) const {
  // Daemons starting together on one database: one creates, the others
  // wait and find it done (CREATE … IF NOT EXISTS races otherwise).
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "restsync:" + schema_);
  tx.exec("CREATE SCHEMA IF NOT EXISTS " + quote_ident(schema_));
  tx.exec("CREATE TABLE IF NOT EXISTS " + table("_rs_state") +
          " (resource text PRIMARY KEY, cursor_value text, "
          "last_complete_scan_at timestamptz, last_success_at timestamptz, "
          "last_error_at timestamptz, last_error text, "
          "updated_at timestamptz NOT NULL DEFAULT now())");
  tx.exec("CREATE TABLE IF NOT EXISTS " + table("_rs_runs") +
          " (id bigserial PRIMARY KEY, resource text NOT NULL, "
          "started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz, "
          "status text NOT NULL DEFAULT 'running', pages bigint NOT NULL DEFAULT 0, "
          "records bigint NOT NULL DEFAULT 0, inserted bigint NOT NULL DEFAULT 0, "
          "updated bigint NOT NULL DEFAULT 0, unchanged bigint NOT NULL DEFAULT 0, "
          "requests bigint NOT NULL DEFAULT 0, retries bigint NOT NULL DEFAULT 0, "
          "rate_limited bigint NOT NULL DEFAULT 0, complete_scan boolean NOT NULL DEFAULT "
          "false, error text)");
  // Added after the first release: databases it created get them here.
  tx.exec("ALTER TABLE " + table("_rs_runs") +
          " ADD COLUMN IF NOT EXISTS deleted bigint NOT NULL DEFAULT 0, "
          "ADD COLUMN IF NOT EXISTS rescans bigint NOT NULL DEFAULT 0, "
          "ADD COLUMN IF NOT EXISTS ignored bigint NOT NULL DEFAULT 0, "
          "ADD COLUMN IF NOT EXISTS gate_rate double precision, "
          // Several daemons (store/leases.hpp): who ran it, and its last page.
          "ADD COLUMN IF NOT EXISTS instance text, "
          "ADD COLUMN IF NOT EXISTS last_write_at timestamptz");
  tx.exec("ALTER TABLE " + table("_rs_state") +
          " ADD COLUMN IF NOT EXISTS page_size bigint, "
          "ADD COLUMN IF NOT EXISTS page_sizes_vary boolean NOT NULL DEFAULT false, "
          "ADD COLUMN IF NOT EXISTS short_page_checked_at timestamptz, "
          "ADD COLUMN IF NOT EXISTS stable_repeats bigint NOT NULL DEFAULT 0");
  // Dependent resources keep a state row per parent (run_scope); the
  // resource's own row has parent_value ''. Tables made before have a key
  // of resource alone.
  tx.exec("ALTER TABLE " + table("_rs_state") +
          " ADD COLUMN IF NOT EXISTS parent_value text NOT NULL DEFAULT ''");
  tx.exec("ALTER TABLE " + table("_rs_runs") + " ADD COLUMN IF NOT EXISTS parent_value text");
  auto key = tx.exec_params(
      "SELECT conname, array_length(conkey, 1) FROM pg_constraint WHERE conrelid = "
      "to_regclass($1) AND contype = 'p'",
      table("_rs_state"));
  if (!key.empty() && key[0][1].as<int>() == 1)
    tx.exec("ALTER TABLE " + table("_rs_state") + " DROP CONSTRAINT " +
            quote_ident(key[0][0].c_str()) + ", ADD PRIMARY KEY (resource, parent_value)");
  tx.exec("CREATE INDEX IF NOT EXISTS \"_rs_runs_resource_idx\" ON " + table("_rs_runs") +
          " (resource, id DESC)");
  // The table catalog's (catalog.hpp). `field` is the field's label
  // (naming.hpp: field_labels), `field_name` the field's exact name, which
  // text cannot always hold; rows written before it existed have NULL there
  // and their name as the label.
  tx.exec("CREATE TABLE IF NOT EXISTS " + table("_rs_columns") +
          " (resource text NOT NULL, field text NOT NULL, variant text NOT NULL DEFAULT '', "
          "column_name text NOT NULL, type text NOT NULL, ordinal integer NOT NULL, "
          "field_name bytea, PRIMARY KEY (resource, field, variant))");
  tx.exec("ALTER TABLE " + table("_rs_columns") + " ADD COLUMN IF NOT EXISTS field_name bytea");
}

void run_journal::mark_interrupted(pqxx::transaction_base& tx) const {
  // A run another daemon is doing now holds its resource's live lease.
  tx.exec("UPDATE " + table("_rs_runs") +
          " r SET status = 'interrupted', finished_at = now() WHERE status = 'running' AND "
          "NOT EXISTS (SELECT 1 FROM " +
          table("_rs_leases") +
          " l WHERE l.resource = r.resource AND l.holder = r.instance AND l.expires_at > now())");
}

run_start run_journal::start_run(pqxx::transaction_base& tx, const std::string& resource,
                                 const std::string& parent_value,
                                 const std::string& instance) const {
  run_start out;
  auto r = tx.exec_params1("INSERT INTO " + table("_rs_runs") +
                               " (resource, parent_value, instance) VALUES ($1, NULLIF($2, ''), "
                               "NULLIF($3, '')) RETURNING id",
                           resource, parent_value, instance);
  out.run_id = r[0].as<std::int64_t>();
  tx.exec_params("INSERT INTO " + table("_rs_state") +
                     " (resource, parent_value) VALUES ($1, $2) ON CONFLICT (resource, "
                     "parent_value) DO NOTHING",
                 resource, parent_value);
  auto state = tx.exec_params1(
      "SELECT cursor_value, extract(epoch FROM now() - last_complete_scan_at)::float8, "
      "page_size, page_sizes_vary, "
      "extract(epoch FROM now() - short_page_checked_at)::float8, stable_repeats FROM " +
          table("_rs_state") + " WHERE resource = $1 AND parent_value = $2",
      resource, parent_value);
  if (!state[0].is_null()) out.cursor = state[0].c_str();
  if (!state[1].is_null()) out.since_complete_scan = state[1].as<double>();
  if (!state[2].is_null()) out.paging.page_size = state[2].as<std::int64_t>();
  out.paging.page_sizes_vary = state[3].as<bool>();
  if (!state[4].is_null()) out.paging.since_short_page_check = state[4].as<double>();
  out.paging.stable_repeats = state[5].as<std::int64_t>();
  return out;
}

std::string run_journal::add_counts_sql() const {
  return "UPDATE " + table("_rs_runs") +
         " SET pages = pages + $2, records = records + $3, "
         "inserted = inserted + $4, updated = updated + $5, "
         "unchanged = unchanged + $6, last_write_at = clock_timestamp() WHERE id = $1";
}

void run_journal::add_counts(pqxx::transaction_base& tx, const std::string& statement,
                             std::int64_t run_id, const run_counters& d) {
  tx.exec_prepared(statement, run_id, d.pages, d.records, d.inserted, d.updated, d.unchanged);
}

void run_journal::store_cursor(pqxx::transaction_base& tx, const std::string& resource,
                               const std::string& parent_value, const std::string& cursor) const {
  tx.exec_params("UPDATE " + table("_rs_state") +
                     " SET cursor_value = $3, updated_at = now() WHERE resource = $1 AND "
                     "parent_value = $2",
                 resource, parent_value, cursor);
}

void run_journal::finish_run(pqxx::transaction_base& tx, const run_summary& s, std::int64_t deleted,
                             const std::string& parent_value) const {
  tx.exec_params("UPDATE " + table("_rs_runs") +
                     " SET finished_at = now(), status = $2, requests = $3, retries = $4, "
                     "rate_limited = $5, complete_scan = $6, error = NULLIF($7, ''), "
                     "deleted = $8, rescans = $9, gate_rate = $10, ignored = $11 WHERE id = $1",
                 s.run_id, std::string(status_name(s.status)), s.counts.requests, s.counts.retries,
                 s.counts.rate_limited, s.complete_scan, s.error, deleted, s.counts.rescans,
                 s.gate_rate, s.counts.ignored);
  // A run that lost its lease writes its own row only: the state is the
  // lease holder's now.
  if (s.status == run_status::abandoned) return;
  if (s.set_counts)
    tx.exec_params("UPDATE " + table("_rs_runs") +
                       " SET pages = $2, records = $3, inserted = $4, updated = $5, "
                       "unchanged = $6 WHERE id = $1",
                   s.run_id, s.counts.pages, s.counts.records, s.counts.inserted, s.counts.updated,
                   s.counts.unchanged);
  if (s.paging)
    tx.exec_params("UPDATE " + table("_rs_state") +
                       " SET page_size = $2, page_sizes_vary = $3, stable_repeats = $4 "
                       "WHERE resource = $1 AND parent_value = $5",
                   s.resource, s.paging->page_size, s.paging->page_sizes_vary,
                   s.paging->stable_repeats, parent_value);
  // The check's clock starts at the first scan that ended on a short page.
  if (s.short_page_checked || s.ended_on_short_page)
    tx.exec_params("UPDATE " + table("_rs_state") +
                       " SET short_page_checked_at = CASE WHEN $2 THEN now() "
                       "ELSE COALESCE(short_page_checked_at, now()) END WHERE resource = $1 "
                       "AND parent_value = $3",
                   s.resource, s.short_page_checked, parent_value);
  if (s.status == run_status::succeeded)
    tx.exec_params("UPDATE " + table("_rs_state") +
                       " SET last_success_at = now(), updated_at = now(), "
                       "last_complete_scan_at = CASE WHEN $2 THEN now() ELSE "
                       "last_complete_scan_at END, cursor_value = COALESCE($3, cursor_value) "
                       "WHERE resource = $1 AND parent_value = $4",
                   s.resource, s.complete_scan,
                   s.cursor ? s.cursor->c_str() : static_cast<const char*>(nullptr), parent_value);
  else
    tx.exec_params("UPDATE " + table("_rs_state") +
                       " SET last_error_at = now(), last_error = $2, updated_at = now() "
                       "WHERE resource = $1 AND parent_value = $3",
                   s.resource, s.error, parent_value);
}

std::int64_t run_journal::drop_parent_states(pqxx::transaction_base& tx,
                                             const std::string& resource,
                                             const std::vector<std::string>& live) const {
  sql::binary_text_array values;
  for (const auto& v : live) values.append(v);
  pqxx::binarystring array(values.finish());
  auto r = tx.exec_params("DELETE FROM " + table("_rs_state") +
                              " WHERE resource = $1 AND parent_value <> '' AND "
                              "parent_value <> ALL ($2::text[])",
                          resource, array);
  return static_cast<std::int64_t>(r.affected_rows());
}

std::vector<resource_state> run_journal::states(pqxx::transaction_base& tx) const {
  std::vector<resource_state> out;
  for (const auto& row :
       tx.exec("SELECT resource, last_success_at, last_error_at, last_error, "
               "last_complete_scan_at FROM " +
               table("_rs_state") + " WHERE parent_value = '' ORDER BY resource")) {
    out.push_back({row[0].c_str(), text(row[1]), text(row[2]), text(row[3]), text(row[4])});
  }
  return out;
}

std::vector<journal_state> run_journal::status_states(pqxx::transaction_base& tx) const {
  std::vector<journal_state> out;
  if (!present(tx, "_rs_state")) return out;
  for (const auto& row : tx.exec(fmt::format(
           "SELECT resource, {}, extract(epoch FROM now() - last_success_at)::float8, {}, "
           "last_error, {}, cursor_value FROM {} s "
           // A database an older version made has no parent_value yet.
           "WHERE coalesce(to_jsonb(s) ->> 'parent_value', '') = '' ORDER BY resource",
           utc("last_success_at"), utc("last_error_at"), utc("last_complete_scan_at"),
           table("_rs_state")))) {
    journal_state r;
    r.resource = row[0].c_str();
    r.last_success_at = text(row[1]);
    if (!row[2].is_null()) r.age_seconds = row[2].as<double>();
    r.last_error_at = text(row[3]);
    r.last_error = text(row[4]);
    r.last_complete_scan_at = text(row[5]);
    r.cursor = text(row[6]);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> run_journal::lease_holders(
    pqxx::transaction_base& tx) const {
  std::vector<std::pair<std::string, std::string>> out;
  if (!present(tx, "_rs_leases")) return out;
  for (const auto& row : tx.exec("SELECT resource, holder FROM " + table("_rs_leases") +
                                 " WHERE expires_at > now() AND holder IS NOT NULL"))
    out.emplace_back(row[0].c_str(), row[1].c_str());
  return out;
}

std::vector<std::pair<std::string, run_row>> run_journal::last_runs(
    pqxx::transaction_base& tx) const {
  std::vector<std::pair<std::string, run_row>> out;
  if (!present(tx, "_rs_runs")) return out;
  for (const auto& row : tx.exec(fmt::format(
           "SELECT DISTINCT ON (resource) resource, id, status, {}, {}, "
           "extract(epoch FROM coalesce(finished_at, now()) - started_at)::float8, pages, "
           "records, inserted, updated, unchanged, requests, retries, rate_limited, "
           "complete_scan, error, "
           // Columns a database made by an older version may lack.
           "coalesce((to_jsonb(r) ->> 'deleted')::bigint, 0), "
           "coalesce((to_jsonb(r) ->> 'rescans')::bigint, 0), "
           "(to_jsonb(r) ->> 'gate_rate')::float8, "
           "coalesce((to_jsonb(r) ->> 'ignored')::bigint, 0), to_jsonb(r) ->> 'instance' "
           "FROM {} r WHERE to_jsonb(r) ->> 'parent_value' IS NULL ORDER BY resource, id DESC",
           utc("started_at"), utc("finished_at"), table("_rs_runs")))) {
    run_row run;
    run.id = row[1].as<std::int64_t>();
    run.status = row[2].c_str();
    run.started_at = row[3].c_str();
    run.finished_at = text(row[4]);
    if (!row[5].is_null()) run.seconds = row[5].as<double>();
    run.counts.pages = row[6].as<std::int64_t>();
    run.counts.records = row[7].as<std::int64_t>();
    run.counts.inserted = row[8].as<std::int64_t>();
    run.counts.updated = row[9].as<std::int64_t>();
    run.counts.unchanged = row[10].as<std::int64_t>();
    run.counts.requests = row[11].as<std::int64_t>();
    run.counts.retries = row[12].as<std::int64_t>();
    run.counts.rate_limited = row[13].as<std::int64_t>();
    run.complete_scan = row[14].as<bool>();
    run.error = text(row[15]);
    run.counts.deleted = row[16].as<std::int64_t>();
    run.counts.rescans = row[17].as<std::int64_t>();
    if (!row[18].is_null()) run.gate_rate = row[18].as<double>();
    run.counts.ignored = row[19].as<std::int64_t>();
    run.instance = text(row[20]);
    out.emplace_back(row[0].c_str(), std::move(run));
  }
  return out;
}

}  // namespace restsync::db

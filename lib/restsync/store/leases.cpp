#include "restsync/store/leases.hpp"

#include "restsync/store/naming.hpp"
#include "restsync/store/sql.hpp"

namespace restsync::db {

std::string lease_table::table(std::string_view name) const {
  return sql::qualified(schema_, name);
}

void lease_table::create_tables(pqxx::transaction_base& tx) const {
  tx.exec("CREATE TABLE IF NOT EXISTS " + table("_rs_leases") +
          " (resource text PRIMARY KEY, holder text, token bigint NOT NULL DEFAULT 0, "
          "expires_at timestamptz, next_due_at timestamptz, "
          "updated_at timestamptz NOT NULL DEFAULT now())");
  tx.exec("CREATE TABLE IF NOT EXISTS " + table("_rs_instances") +
          " (instance text PRIMARY KEY, started_at timestamptz NOT NULL DEFAULT now(), "
          "seen_at timestamptz NOT NULL DEFAULT now(), stopped_at timestamptz)");
}

lease_answer lease_table::acquire(pqxx::transaction_base& tx, const std::string& resource,
                                  const std::string& instance, std::int64_t lease_ms) const {
  tx.exec_params("INSERT INTO " + table("_rs_leases") +
                     " (resource) VALUES ($1) ON CONFLICT (resource) DO NOTHING",
                 resource);
  // Two daemons asking at once: the row lock orders them, and the second
  // sees the first's lease when it re-reads the row.
  auto granted = tx.exec_params(
      "UPDATE " + table("_rs_leases") +
          " SET holder = $2, token = token + 1, "
          "expires_at = clock_timestamp() + $3 * interval '1 millisecond', updated_at = now() "
          "WHERE resource = $1 AND (expires_at IS NULL OR expires_at <= clock_timestamp() OR "
          "holder = $2) AND (next_due_at IS NULL OR next_due_at <= clock_timestamp()) "
          "RETURNING token",
      resource, instance, lease_ms);
  lease_answer out;
  if (!granted.empty()) {
    out.token = granted[0][0].as<std::int64_t>();
    return out;
  }
  auto row = tx.exec_params1(
      "SELECT coalesce(CASE WHEN expires_at > clock_timestamp() THEN holder END, ''), "
      "greatest(0, extract(epoch FROM greatest(coalesce(expires_at, clock_timestamp()), "
      "coalesce(next_due_at, clock_timestamp())) - clock_timestamp()))::float8 FROM " +
          table("_rs_leases") + " WHERE resource = $1",
      resource);
  out.holder = row[0].c_str();
  out.wait_seconds = row[1].as<double>();
  return out;
}

bool lease_table::renew(pqxx::transaction_base& tx, const std::string& resource, const fence& f,
                        std::int64_t lease_ms) const {
  auto r = tx.exec_params(
      "UPDATE " + table("_rs_leases") +
          " SET expires_at = clock_timestamp() + $4 * interval '1 millisecond', updated_at = "
          "now() WHERE resource = $1 AND holder = $2 AND token = $3 AND expires_at > "
          "clock_timestamp()",
      resource, f.instance, f.token, lease_ms);
  return r.affected_rows() == 1;
}

void lease_table::release(pqxx::transaction_base& tx, const std::string& resource, const fence& f,
                          std::int64_t next_due_ms) const {
  tx.exec_params("UPDATE " + table("_rs_leases") +
                     " SET expires_at = least(expires_at, clock_timestamp()), "
                     "next_due_at = clock_timestamp() + $4 * interval '1 millisecond', "
                     "updated_at = now() WHERE resource = $1 AND holder = $2 AND token = $3",
                 resource, f.instance, f.token, next_due_ms);
}

void lease_table::reschedule(pqxx::transaction_base& tx, const std::string& resource,
                             std::int64_t next_due_ms) const {
  tx.exec_params("UPDATE " + table("_rs_leases") +
                     " SET next_due_at = clock_timestamp() + $2 * interval '1 millisecond', "
                     "updated_at = now() WHERE resource = $1 AND (expires_at IS NULL OR "
                     "expires_at <= clock_timestamp())",
                 resource, next_due_ms);
}

void lease_table::release_all(pqxx::transaction_base& tx, const std::string& instance) const {
  // A daemon stopped before its start-up made restsync's tables has none.
  if (tx.exec_params1("SELECT to_regclass($1) IS NULL", table("_rs_leases"))[0].as<bool>()) return;
  tx.exec_params("UPDATE " + table("_rs_leases") +
                     " SET expires_at = clock_timestamp(), updated_at = now() "
                     "WHERE holder = $1 AND expires_at > clock_timestamp()",
                 instance);
  tx.exec_params("UPDATE " + table("_rs_instances") + " SET stopped_at = now() WHERE instance = $1",
                 instance);
}

std::int64_t lease_table::heartbeat(pqxx::transaction_base& tx, const std::string& instance,
                                    std::int64_t lease_ms) const {
  tx.exec_params("INSERT INTO " + table("_rs_instances") +
                     " (instance) VALUES ($1) ON CONFLICT (instance) DO UPDATE SET seen_at = "
                     "now(), stopped_at = NULL",
                 instance);
  return tx
      .exec_params1("SELECT count(*) FROM " + table("_rs_instances") +
                        " WHERE stopped_at IS NULL AND seen_at > now() - $1 * interval '1 "
                        "millisecond'",
                    lease_ms)[0]
      .as<std::int64_t>();
}

bool lease_table::holds(pqxx::transaction_base& tx, const std::string& resource,
                        const fence& f) const {
  return !tx.exec_params("SELECT 1 FROM " + table("_rs_leases") +
                             " WHERE resource = $1 AND holder = $2 AND token = $3 AND "
                             "expires_at > clock_timestamp() FOR SHARE",
                         resource, f.instance, f.token)
              .empty();
}

}  // namespace restsync::db

// Several daemons on one database (docs/operations.md, "Several daemons"):
// each run of a resource holds the resource's lease, a row of _rs_leases
// with its holder, an expiry and a fencing token that grows with every
// grant; the schedule is the row's next_due_at, global to every daemon.
// _rs_instances lists the daemons alive, which share the API's rate.
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>

#include "restsync/store/types.hpp"

namespace restsync::db {

class lease_table {
 public:
  explicit lease_table(std::string schema) : schema_(std::move(schema)) {}

  void create_tables(pqxx::transaction_base& tx) const;

  // The lease of resource for holder.instance, for lease_ms, when it is
  // free (never held, expired, or holder's own) and the resource is due.
  lease_answer acquire(pqxx::transaction_base& tx, const std::string& resource,
                       const std::string& instance, std::int64_t lease_ms) const;
  // Extends a lease still held; false when it was lost (expired or taken).
  bool renew(pqxx::transaction_base& tx, const std::string& resource, const fence& f,
             std::int64_t lease_ms) const;
  // Ends a lease (if still this one) and sets when the resource is due next.
  void release(pqxx::transaction_base& tx, const std::string& resource, const fence& f,
               std::int64_t next_due_ms) const;
  // The schedule changed (a reload): the resource is due next_due_ms from
  // now, unless a run holds it (its release sets the next turn).
  void reschedule(pqxx::transaction_base& tx, const std::string& resource,
                  std::int64_t next_due_ms) const;
  // A stop: every lease the instance holds ends now; it is no longer alive.
  void release_all(pqxx::transaction_base& tx, const std::string& instance) const;
  // The instance is alive; returns how many are (seen within lease_ms).
  std::int64_t heartbeat(pqxx::transaction_base& tx, const std::string& instance,
                         std::int64_t lease_ms) const;
  // Whether f is still the resource's live lease; locks its row until the
  // transaction ends, so that no takeover commits in between.
  bool holds(pqxx::transaction_base& tx, const std::string& resource, const fence& f) const;

 private:
  std::string table(std::string_view name) const;
  std::string schema_;
};

}  // namespace restsync::db

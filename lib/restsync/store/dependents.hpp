// What dependent resources read of their parents' tables: the live rows'
// values, and the child rows whose parent vanished (store.hpp:
// parent_rows, mark_orphans).
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "restsync/store/types.hpp"

namespace restsync::db {

// The distinct values of fields over the live rows of resource's table,
// each as JSON text (to_jsonb of its column, a variant column's value when
// the main one is NULL), and whether the resource has a successful run.
parent_rows read_parent_rows(pqxx::transaction_base& tx, const std::string& schema,
                             const std::string& resource, const std::vector<std::string>& fields);

// Marks deleted (hard: deletes) the live rows of rule.resource whose parent
// values are not those of a live row of rule.parent; returns how many.
std::int64_t mark_orphans(pqxx::transaction_base& tx, const std::string& schema,
                          const orphan_rule& rule);

}  // namespace restsync::db

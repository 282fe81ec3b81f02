// A resource's `columns` hints as the store applies them: each dlt data_type
// as its PostgreSQL type.
#pragma once

#include <vector>

#include "restsync/config/config.hpp"
#include "restsync/store/schema.hpp"

namespace restsync {

// text → text, bigint → bigint, double → double precision, bool → boolean,
// timestamp → timestamptz, date → date, decimal → numeric(precision, scale)
// (numeric without precision), json → jsonb.
column_type column_type_of(const column_hint_config& h);

std::vector<column_hint> store_hints(const std::vector<column_hint_config>& columns);

}  // namespace restsync

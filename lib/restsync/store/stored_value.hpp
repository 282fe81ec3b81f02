// A value already in a table, read back as PostgreSQL prints it (`c::text`),
// converted for a column hint that changes the column's type: the same rules
// as a record's value meeting the hinted column (schema.hpp), so that a
// converted table holds what a fresh sync into the hinted table would.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "restsync/store/schema.hpp"

namespace restsync {

// The text the column of type `to` (hinted) reads as the value PostgreSQL
// printed as `text` from a column of type `from` (with TimeZone UTC and
// DateStyle ISO); nullopt when the value does not fit the hint (it would go
// to a variant column).
std::optional<std::string> convert_stored(std::string_view text, const column_type& from,
                                          const column_type& to);

}  // namespace restsync

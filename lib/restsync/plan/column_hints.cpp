#include "restsync/plan/column_hints.hpp"

namespace restsync {

column_type column_type_of(const column_hint_config& h) {
  switch (h.data_type.value_or(column_data_type::text)) {
    case column_data_type::text:
      return {pg_type::text, 0, 0};
    case column_data_type::bigint:
      return {pg_type::bigint, 0, 0};
    case column_data_type::double_:
      return {pg_type::double_precision, 0, 0};
    case column_data_type::bool_:
      return {pg_type::boolean, 0, 0};
    case column_data_type::timestamp:
      return {pg_type::timestamptz, 0, 0};
    case column_data_type::date:
      return {pg_type::date, 0, 0};
    case column_data_type::decimal:
      return {pg_type::numeric, h.precision, h.scale};
    case column_data_type::json:
      return {pg_type::jsonb, 0, 0};
  }
  return {pg_type::text, 0, 0};
}

std::vector<column_hint> store_hints(const std::vector<column_hint_config>& columns) {
  std::vector<column_hint> out;
  for (const auto& c : columns) {
    column_hint h{c.name, std::nullopt, !c.nullable};
    if (c.data_type) h.type = column_type_of(c);
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace restsync

#include "restsync/store/stored_value.hpp"

#include <rapidjson/document.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "restsync/paging/page.hpp"

namespace restsync {

namespace {

// The JSON value a record held for the stored text, as page.hpp would hold
// it; false when there is none (a NaN in a double column).
bool read_back(std::string_view text, pg_type from, rapidjson::Document& d) {
  auto& a = d.GetAllocator();
  switch (from) {
    case pg_type::bigint:
    case pg_type::numeric: {
      std::int64_t i = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), i);
      if (r.ec == std::errc{} && r.ptr == text.data() + text.size()) {
        d.SetInt64(i);
        return true;
      }
      if (from == pg_type::bigint) return false;
      // Kept verbatim as a big number, as a page keeps one it cannot hold.
      std::string marked(1, page::big_number_mark);
      marked += text;
      d.SetString(marked.data(), static_cast<rapidjson::SizeType>(marked.size()), a);
      return true;
    }
    case pg_type::double_precision: {
      const std::string s(text);
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      if (end != s.c_str() + s.size() || !std::isfinite(v)) return false;
      d.SetDouble(v);
      return true;
    }
    case pg_type::boolean:
      if (text != "true" && text != "false") return false;
      d.SetBool(text == "true");
      return true;
    case pg_type::jsonb:
      d.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
      return !d.HasParseError();
    case pg_type::text:
    case pg_type::timestamptz:
    case pg_type::date:
      d.SetString(text.data(), static_cast<rapidjson::SizeType>(text.size()), a);
      return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> convert_stored(std::string_view text, const column_type& from,
                                          const column_type& to) {
  rapidjson::Document d;
  if (!read_back(text, from.type, d)) return std::nullopt;
  const auto where = decide(to.type, d, {to.type == pg_type::text, to.precision, to.scale});
  if (where.variant) return std::nullopt;
  std::string out;
  append_pg_text(out, d, to.type);
  return out;
}

}  // namespace restsync

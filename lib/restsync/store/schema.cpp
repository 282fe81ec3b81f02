#include "restsync/store/schema.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "restsync/incremental/cursor.hpp"
#include "restsync/paging/page.hpp"

namespace restsync {
namespace {

size_t index_of(pg_type t) { return static_cast<size_t>(t); }

bool is_surrogate_at(const char* p, const char* end) {
  return static_cast<unsigned char>(p[0]) == 0xED && end - p >= 2 &&
         (static_cast<unsigned char>(p[1]) & 0xE0) == 0xA0;
}

// The code unit of the surrogate encoded at p (three bytes).
unsigned surrogate_unit(const char* p) {
  return 0xD000u | ((static_cast<unsigned char>(p[1]) & 0x3Fu) << 6) |
         (static_cast<unsigned char>(p[2]) & 0x3Fu);
}

// For the jsonb escape, the six characters `\uXXXX` as a JSON string holds
// them: the backslash itself escaped.
void append_unit_escape(std::string& out, unsigned unit, bool in_json) {
  out += in_json ? "\\\\u" : "\\u";
  out += fmt::format("{:04x}", unit);
}

void append_text(std::string& out, const char* p, size_t n) {
  if (std::memchr(p, '\0', n) == nullptr && std::memchr(p, 0xED, n) == nullptr) {
    out.append(p, n);
    return;
  }
  const char* end = p + n;
  const char* run = p;
  for (const char* c = p; c < end;) {
    if (*c == '\0') {
      out.append(run, c);
      append_unit_escape(out, 0, false);
      run = ++c;
    } else if (is_surrogate_at(c, end) && end - c >= 3) {
      out.append(run, c);
      append_unit_escape(out, surrogate_unit(c), false);
      run = c += 3;
    } else {
      ++c;
    }
  }
  out.append(run, end);
}

// 0: copy as is; 1: needs an escape (or is the first byte of a surrogate).
constexpr std::array<unsigned char, 256> json_special = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  t[0xED] = 1;
  return t;
}();

void append_json_string(std::string& out, const char* p, size_t n) {
  const char* end = p + n;
  const char* run = p;
  out += '"';
  for (const char* c = p; c < end;) {
    const auto b = static_cast<unsigned char>(*c);
    if (json_special[b] == 0) {
      ++c;
      continue;
    }
    if (b == 0xED) {
      if (is_surrogate_at(c, end) && end - c >= 3) {
        out.append(run, c);
        append_unit_escape(out, surrogate_unit(c), true);
        run = c += 3;
      } else {
        ++c;
      }
      continue;
    }
    out.append(run, c);
    switch (b) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case 0:
        append_unit_escape(out, 0, true);
        break;
      default:
        out += fmt::format("\\u{:04x}", b);
    }
    run = ++c;
  }
  out.append(run, end);
  out += '"';
}

void append_number(std::string& out, const rapidjson::Value& v) {
  char buf[32];
  std::to_chars_result r;
  if (v.IsInt64()) {
    r = std::to_chars(buf, buf + sizeof buf, v.GetInt64());
  } else if (v.IsUint64()) {
    r = std::to_chars(buf, buf + sizeof buf, v.GetUint64());
  } else {
    // From 2^53 on, doubles are integers, and the shortest text can be fixed
    // notation with every exact digit: 5.31652058774973e16 as 53165205877497296,
    // another decimal for numeric and jsonb. Scientific keeps the shortest
    // digits, whose decimal is the one the body wrote (page.hpp).
    const double d = v.GetDouble();
    r = std::fabs(d) < 0x1p53
            ? std::to_chars(buf, buf + sizeof buf, d)
            : std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  }
  out.append(buf, r.ptr);
}

void append_number_text(std::string& out, const rapidjson::Value& v) {
  if (is_marked_number(v)) {
    out += marked_number_text(v);
  } else {
    append_number(out, v);
  }
}

bool exact_in_double(int64_t i) {
  const auto d = static_cast<double>(i);
  return d >= -9.2233720368547758e18 && d < 9.2233720368547758e18 && static_cast<int64_t>(d) == i;
}

bool exact_in_double(uint64_t u) {
  const auto d = static_cast<double>(u);
  return d < 1.8446744073709552e19 && static_cast<uint64_t>(d) == u;
}

}  // namespace

std::string_view sql_name(pg_type t) {
  switch (t) {
    case pg_type::bigint:
      return "bigint";
    case pg_type::numeric:
      return "numeric";
    case pg_type::double_precision:
      return "double precision";
    case pg_type::boolean:
      return "boolean";
    case pg_type::text:
      return "text";
    case pg_type::jsonb:
      return "jsonb";
    case pg_type::timestamptz:
      return "timestamptz";
    case pg_type::date:
      return "date";
  }
  return "text";
}

std::optional<pg_type> parse_pg_type(std::string_view sql) {
  if (sql == "bigint" || sql == "int8") return pg_type::bigint;
  if (sql == "numeric") return pg_type::numeric;
  if (sql == "double precision" || sql == "float8") return pg_type::double_precision;
  if (sql == "boolean" || sql == "bool") return pg_type::boolean;
  if (sql == "text") return pg_type::text;
  if (sql == "jsonb") return pg_type::jsonb;
  if (sql == "timestamptz" || sql == "timestamp with time zone") return pg_type::timestamptz;
  if (sql == "date") return pg_type::date;
  return std::nullopt;
}

std::string sql_type(const column_type& t) {
  if (t.type == pg_type::numeric && t.precision > 0)
    return fmt::format("numeric({},{})", t.precision, t.scale);
  return std::string(sql_name(t.type));
}

std::optional<column_type> parse_sql_type(std::string_view sql) {
  if (auto t = parse_pg_type(sql)) return column_type{*t, 0, 0};
  constexpr std::string_view prefix = "numeric(";
  if (sql.substr(0, prefix.size()) != prefix || sql.back() != ')') return std::nullopt;
  auto inner = sql.substr(prefix.size(), sql.size() - prefix.size() - 1);
  column_type out{pg_type::numeric, 0, 0};
  const char* end = inner.data() + inner.size();
  auto r = std::from_chars(inner.data(), end, out.precision);
  if (r.ec != std::errc{} || out.precision < 1) return std::nullopt;
  if (r.ptr != end) {
    if (*r.ptr != ',') return std::nullopt;
    r = std::from_chars(r.ptr + 1, end, out.scale);
    if (r.ec != std::errc{} || r.ptr != end || out.scale < 0 || out.scale > out.precision)
      return std::nullopt;
  }
  return out;
}

bool fits_numeric(std::string_view literal, int precision, int scale) {
  // The digits, and where the decimal point sits among them (after
  // `point` digits), once the exponent has moved it.
  std::string_view s = literal;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  std::string digits;
  long long point = -1;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c == '.' && point < 0) {
      point = static_cast<long long>(digits.size());
    } else {
      break;
    }
  }
  if (digits.empty()) return false;
  if (point < 0) point = static_cast<long long>(digits.size());
  if (i < s.size()) {
    if (s[i] != 'e' && s[i] != 'E') return false;
    long long exponent = 0;
    auto rest = s.substr(i + 1);
    if (!rest.empty() && rest.front() == '+') rest.remove_prefix(1);
    auto r = std::from_chars(rest.data(), rest.data() + rest.size(), exponent);
    if (r.ec != std::errc{} || r.ptr != rest.data() + rest.size()) return false;
    if (exponent > 1000 || exponent < -1000) return false;
    point += exponent;
  }
  const auto first = digits.find_first_not_of('0');
  if (first == std::string::npos) return true;  // zero
  const auto last = static_cast<long long>(digits.find_last_not_of('0'));
  const long long integer_digits = point - static_cast<long long>(first);
  const long long fraction_digits = last + 1 - point;
  return integer_digits <= precision - scale && fraction_digits <= scale;
}

std::optional<std::string> timestamptz_text(const rapidjson::Value& v) {
  using namespace std::chrono;
  if (!v.IsNumber() && !v.IsString()) return std::nullopt;
  const auto c = parse_cursor_json(v);
  // Years 1 to 9999, checked before any calendar arithmetic (which would
  // overflow near the ends of the int64 range).
  constexpr std::int64_t first = -62'135'596'800'000'000;  // 0001-01-01
  constexpr std::int64_t end = 253'402'300'800'000'000;    // 10000-01-01
  if (!c || c->micros < first || c->micros >= end) return std::nullopt;
  const sys_time<microseconds> t{microseconds(c->micros)};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const auto micros = (t - day).count();
  const auto secs = micros / 1'000'000;
  const auto frac = micros % 1'000'000;
  auto out = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                         static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                         secs / 3600, secs / 60 % 60, secs % 60);
  if (frac != 0) out += fmt::format(".{:06}", frac);
  out += "+00";
  return out;
}

std::optional<std::string_view> date_text(const rapidjson::Value& v) {
  using namespace std::chrono;
  if (!v.IsString() || is_marked_number(v)) return std::nullopt;
  const std::string_view s(v.GetString(), v.GetStringLength());
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0, d = 0;
  auto digits = [&](size_t at, size_t n, auto& out) {
    auto r = std::from_chars(s.data() + at, s.data() + at + n, out);
    return r.ec == std::errc{} && r.ptr == s.data() + at + n;
  };
  if (!digits(0, 4, y) || !digits(5, 2, m) || !digits(8, 2, d)) return std::nullopt;
  if (y < 1 || !year_month_day{year(y), month(m), day(d)}.ok()) return std::nullopt;
  return s;
}

std::string_view variant_tag(pg_type t) {
  return t == pg_type::double_precision ? "double" : sql_name(t);
}

std::optional<pg_type> infer(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return std::nullopt;
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return pg_type::boolean;
    case rapidjson::kObjectType:
    case rapidjson::kArrayType:
      return pg_type::jsonb;
    case rapidjson::kStringType:
      if (is_big_number(v)) return pg_type::numeric;
      if (is_verbatim_double(v)) return pg_type::double_precision;
      return pg_type::text;
    case rapidjson::kNumberType:
      if (v.IsInt64()) return pg_type::bigint;
      if (v.IsUint64()) return pg_type::numeric;
      return pg_type::double_precision;
  }
  return std::nullopt;
}

placement decide(pg_type column, const rapidjson::Value& v, const fit_rules& rules) {
  const auto type = infer(v);
  if (!type) return {column, false};
  switch (column) {
    case pg_type::timestamptz:
      if (timestamptz_text(v)) return {column, false};
      return {*type, true};
    case pg_type::date:
      if (date_text(v)) return {column, false};
      return {*type, true};
    case pg_type::text:
      if (rules.text_takes_all) return {column, false};
      break;
    case pg_type::numeric:
      if (rules.precision > 0) {
        if (*type != pg_type::bigint && *type != pg_type::double_precision &&
            *type != pg_type::numeric)
          return {*type, true};
        std::string literal;
        append_number_text(literal, v);
        if (fits_numeric(literal, rules.precision, rules.scale)) return {column, false};
        return {*type, true};
      }
      break;
    default:
      break;
  }
  if (*type == column) return {column, false};
  switch (column) {
    case pg_type::jsonb:
      return {column, false};
    case pg_type::numeric:
      if (*type == pg_type::bigint || *type == pg_type::double_precision) return {column, false};
      break;
    case pg_type::double_precision:
      if (*type == pg_type::bigint && exact_in_double(v.GetInt64())) return {column, false};
      if (v.IsUint64() && exact_in_double(v.GetUint64())) return {column, false};
      break;
    default:
      break;
  }
  return {*type, true};
}

void append_jsonb_text(std::string& out, const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      out += "null";
      return;
    case rapidjson::kFalseType:
      out += "false";
      return;
    case rapidjson::kTrueType:
      out += "true";
      return;
    case rapidjson::kNumberType:
      append_number(out, v);
      return;
    case rapidjson::kStringType:
      if (is_marked_number(v)) {
        out += marked_number_text(v);
      } else {
        append_json_string(out, v.GetString(), v.GetStringLength());
      }
      return;
    case rapidjson::kArrayType: {
      out += '[';
      bool first = true;
      for (const auto& e : v.GetArray()) {
        if (!first) out += ',';
        first = false;
        append_jsonb_text(out, e);
      }
      out += ']';
      return;
    }
    case rapidjson::kObjectType: {
      out += '{';
      bool first = true;
      for (const auto& m : v.GetObject()) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, m.name.GetString(), m.name.GetStringLength());
        out += ':';
        append_jsonb_text(out, m.value);
      }
      out += '}';
      return;
    }
  }
}

bool append_pg_text(std::string& out, const rapidjson::Value& v, pg_type target) {
  if (target == pg_type::timestamptz && !v.IsNull()) {
    // decide() sent only values that convert here.
    auto t = timestamptz_text(v);
    if (!t) throw std::logic_error("a value that is no time in a timestamptz column");
    out += *t;
    return true;
  }
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return false;
    case rapidjson::kFalseType:
      out += "false";
      return true;
    case rapidjson::kTrueType:
      out += "true";
      return true;
    case rapidjson::kNumberType:
      append_number(out, v);
      return true;
    case rapidjson::kStringType:
      // A verbatim double's literal reads back as its double in a double
      // precision column, and as exactly what the API sent in numeric and jsonb.
      if (is_marked_number(v)) {
        out += marked_number_text(v);
      } else if (target == pg_type::jsonb) {
        append_json_string(out, v.GetString(), v.GetStringLength());
      } else {
        append_text(out, v.GetString(), v.GetStringLength());
      }
      return true;
    case rapidjson::kObjectType:
    case rapidjson::kArrayType:
      append_jsonb_text(out, v);
      return true;
  }
  return false;
}

std::optional<std::string> to_pg_text(const rapidjson::Value& v, pg_type target) {
  std::string out;
  if (!append_pg_text(out, v, target)) return std::nullopt;
  return out;
}

table_schema::table_schema(const std::vector<column_def>& existing,
                           const std::vector<std::string>& other_columns) {
  std::vector<column_assignment> persisted;
  persisted.reserve(existing.size());
  for (const auto& c : existing) {
    persisted.push_back(
        {c.field, c.variant ? std::string(variant_tag(c.type)) : std::string(), c.name});
  }
  names_ = column_map(persisted);
  for (const auto& name : other_columns) names_.reserve(name);

  for (const auto& c : existing) {
    auto [it, fresh] = field_index_.try_emplace(c.field, static_cast<int>(fields_.size()));
    if (fresh) fields_.emplace_back();
    auto& f = fields_[static_cast<size_t>(it->second)];
    const auto column = static_cast<int>(columns_.size());
    if (c.variant) {
      f.variants[index_of(c.type)] = column;
    } else {
      f.main = column;
      f.rules.precision = c.precision;
      f.rules.scale = c.scale;
    }
    columns_.push_back(c);
  }
  for (const auto& f : fields_) {
    const auto& main = columns_[static_cast<size_t>(f.main)];
    if (f.variants[index_of(main.type)] != -1) {
      throw std::invalid_argument(
          fmt::format("column mapping: field `{}` has a variant of its main column's type {}",
                      main.field, sql_name(main.type)));
    }
  }
}

void table_schema::set_hints(const std::vector<column_hint>& hints) {
  hints_.clear();
  for (const auto& h : hints) hints_.emplace(h.column, h);
  for (auto& f : fields_) {
    if (f.main >= 0) apply_hint(f);
  }
}

const column_hint* table_schema::hint(std::string_view column) const {
  const auto it = hints_.find(column);
  return it == hints_.end() ? nullptr : &it->second;
}

void table_schema::apply_hint(field_columns& f) const {
  const auto& main = columns_[static_cast<size_t>(f.main)];
  f.hinted = hint(main.name) != nullptr;
  // The rules follow the column as it is; a hint's type reaches it when the
  // column is created or converted (catalog.cpp).
  f.rules = {f.hinted && main.type == pg_type::text, main.precision, main.scale};
}

std::vector<hint_misfit> table_schema::take_misfits() { return std::exchange(misfits_, {}); }

int table_schema::find_field(std::string_view key, size_t position) const {
  if (position < layout_.size()) {
    const auto& slot = layout_[position];
    if (slot.field >= 0 && slot.key == key) return slot.field;
  }
  const auto it = field_index_.find(key);
  if (it == field_index_.end()) return -1;
  if (position >= layout_.size()) layout_.resize(position + 1);
  layout_[position].key.assign(key);
  layout_[position].field = it->second;
  return it->second;
}

int table_schema::main_column(std::string_view field) const {
  const auto it = field_index_.find(field);
  return it == field_index_.end() ? -1 : fields_[static_cast<size_t>(it->second)].main;
}

int table_schema::add_column(int field, std::string_view key, pg_type type, bool variant,
                             std::vector<column_def>& added) {
  const auto& assigned = names_.assign(key, variant ? variant_tag(type) : std::string_view());
  const auto column = static_cast<int>(columns_.size());
  columns_.push_back({assigned.column, type, std::string(key), variant});
  auto& f = fields_[static_cast<size_t>(field)];
  (variant ? f.variants[index_of(type)] : f.main) = column;
  added.push_back(columns_.back());
  return column;
}

int table_schema::add_main_column(int field, std::string_view key, const rapidjson::Value& v,
                                  std::vector<column_def>& added) {
  const auto& assigned = names_.assign(key);
  const auto* h = hint(assigned.column);
  const auto column = static_cast<int>(columns_.size());
  column_def def{assigned.column, pg_type::text, std::string(key), false, 0, 0};
  if (h != nullptr && h->type) {
    def.type = h->type->type;
    def.precision = h->type->precision;
    def.scale = h->type->scale;
  } else {
    def.type = infer(v).value_or(pg_type::text);
  }
  columns_.push_back(def);
  auto& f = fields_[static_cast<size_t>(field)];
  f.main = column;
  apply_hint(f);
  added.push_back(def);
  return column;
}

std::vector<column_def> table_schema::plan(std::span<const rapidjson::Value* const> records) {
  std::vector<column_def> added;
  for (const auto* record : records) {
    size_t position = 0;
    for (const auto& m : record->GetObject()) {
      const auto here = position++;
      const std::string_view key(m.name.GetString(), m.name.GetStringLength());
      auto field = m.value.IsNull() && hints_.empty() ? -1 : find_field(key, here);
      if (m.value.IsNull()) {
        // A null tells no type, but a hint does: its column is made now.
        if (field >= 0 || hints_.empty()) continue;
        const auto name = column_name(key);
        const auto* h = hint(name);
        if (h == nullptr || !h->type || names_.is_taken(name)) continue;
      }
      if (field < 0) {
        field = static_cast<int>(fields_.size());
        fields_.emplace_back();
        field_index_.emplace(key, field);
        add_main_column(field, key, m.value, added);
        if (m.value.IsNull()) continue;
      }
      const auto& f = fields_[static_cast<size_t>(field)];
      const auto where = decide(columns_[static_cast<size_t>(f.main)].type, m.value, f.rules);
      if (!where.variant) continue;
      // add_column may move columns_: index it again after.
      if (f.variants[index_of(where.type)] < 0) add_column(field, key, where.type, true, added);
      if (f.hinted)
        note_misfit(columns_[static_cast<size_t>(f.main)].name,
                    columns_[static_cast<size_t>(f.variants[index_of(where.type)])].name);
    }
  }
  return added;
}

void table_schema::note_misfit(const std::string& column, const std::string& variant) {
  for (auto& m : misfits_) {
    if (m.column == column && m.variant == variant) {
      ++m.count;
      return;
    }
  }
  misfits_.push_back({column, variant, 1});
}

void table_schema::fill_row(const rapidjson::Value& record, row_text& row) const {
  row.text_.clear();
  row.cells_.assign(columns_.size(), {0, row_text::null_cell});
  size_t position = 0;
  for (const auto& m : record.GetObject()) {
    const auto here = position++;
    if (m.value.IsNull()) continue;
    const std::string_view key(m.name.GetString(), m.name.GetStringLength());
    const auto field = find_field(key, here);
    int column = -1;
    pg_type type = pg_type::text;
    if (field >= 0) {
      const auto& f = fields_[static_cast<size_t>(field)];
      const auto where = decide(columns_[static_cast<size_t>(f.main)].type, m.value, f.rules);
      column = where.variant ? f.variants[index_of(where.type)] : f.main;
      type = where.type;
    }
    if (column < 0) {
      throw std::logic_error(
          fmt::format("field `{}` has no column for its value: plan() the record first", key));
    }
    const auto offset = row.text_.size();
    append_pg_text(row.text_, m.value, type);
    row.cells_[static_cast<size_t>(column)] = {offset, row.text_.size() - offset};
  }
}

}  // namespace restsync

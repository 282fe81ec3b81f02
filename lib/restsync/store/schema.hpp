// Column types from JSON values, where each value goes, and the text
// PostgreSQL reads it from: a table's columns grow with the records, and no
// value ever fails the load or goes missing for not fitting its column.
//
// A column's type is that of the first non-null value seen for its field.
// A later value of another type is not coerced and does not change the column
// (ALTER COLUMN … TYPE rewrites the whole table): it goes to a *variant
// column*, `<column>__v_<tag>` of its own type, created on first need, and
// the main column stays NULL for that row (dlt's approach). `score`: 5 then
// "n/a" gives `score bigint` and `score__v_text text`. Values that a column
// holds exactly go to it without a variant:
//   - an integer into double precision when the double equals it;
//   - a bigint or a double into numeric (numeric keeps any decimal exactly);
//   - anything into jsonb (jsonb keeps scalars with their JSON type).
//
// Text rules (to_pg_text):
//   - numbers keep every digit: integers as written, big numbers and
//     verbatim doubles (page.hpp) as their literal, other doubles in the
//     shortest form that reads back as the same double (which has the
//     literal's decimal value);
//   - PostgreSQL text and jsonb cannot hold U+0000, nor lone UTF-16
//     surrogates (JSON allows `\u0000` and `\udc00`). Rather than fail the
//     load or drop the value, each becomes the six characters of its escape:
//     the text `\u0000`, and in jsonb the string "\\u0000". A value that
//     really contained a backslash-u sequence reads the same, which is the
//     one ambiguity accepted to never lose a row.
#pragma once

#include <rapidjson/document.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "restsync/store/naming.hpp"

namespace restsync {

// timestamptz and date columns exist only where a column hint asks for them
// (config's `columns`): inference never yields them.
enum class pg_type { bigint, numeric, double_precision, boolean, text, jsonb, timestamptz, date };
inline constexpr size_t pg_type_count = 8;

// The SQL type name: "bigint", "numeric", "double precision", "boolean", "text",
// "jsonb", "timestamptz", "date".
std::string_view sql_name(pg_type t);
// The inverse of sql_name; also accepts "int8", "float8", "bool" (pg_catalog spellings).
std::optional<pg_type> parse_pg_type(std::string_view sql);
// The suffix of a variant column of this type: "bigint", "numeric", "double",
// "boolean", "text", "jsonb", "timestamptz", "date" (as in `score__v_text`).
std::string_view variant_tag(pg_type t);

// A column's full type: numeric(precision, scale) when precision > 0.
struct column_type {
  pg_type type = pg_type::text;
  int precision = 0;
  int scale = 0;

  friend bool operator==(const column_type&, const column_type&) = default;
};

// `numeric(10,2)`, else sql_name(type).
std::string sql_type(const column_type& t);
// The inverse of sql_type (parse_pg_type's spellings, and `numeric(p,s)`,
// `numeric(p)` as PostgreSQL's format_type writes them).
std::optional<column_type> parse_sql_type(std::string_view sql);

// What a column hint (config's `columns`) asks of the main column of the
// field it names; by column name, as the table has it.
struct column_hint {
  std::string column;
  std::optional<column_type> type;  // nullopt: inferred from the values
  bool not_null = false;            // `nullable: false`

  friend bool operator==(const column_hint&, const column_hint&) = default;
};

// How values fit a main column beyond its type: a hinted text column takes
// every value (numbers and booleans as their literal, objects and arrays as
// JSON text), and numeric(precision, scale) only numbers it holds exactly.
struct fit_rules {
  bool text_takes_all = false;
  int precision = 0;
  int scale = 0;
};

// Whether the decimal literal (`-12.5`, `1e3`, `123456789012345678901`) is
// exactly a numeric(precision, scale) value: at most precision - scale
// digits before the point and scale after it (trailing zeros not counted).
bool fits_numeric(std::string_view literal, int precision, int scale);

// A timestamptz hint's reading of v: epoch seconds, epoch milliseconds (a
// magnitude of at least 1e11) or an ISO-8601 date-time, as an incremental
// cursor reads them (incremental/cursor.hpp), in the years 1 to 9999. The
// text PostgreSQL reads it from: `2023-11-14 22:13:20.5+00`. nullopt when v
// is none of these.
std::optional<std::string> timestamptz_text(const rapidjson::Value& v);
// A date hint's reading of v: a string `YYYY-MM-DD` that is a date, years 1
// to 9999. nullopt otherwise.
std::optional<std::string_view> date_text(const rapidjson::Value& v);

// The type a column created for v would have; nullopt for null (no information).
std::optional<pg_type> infer(const rapidjson::Value& v);

// Where a value goes: the column of `type`, which is the main column unless variant.
struct placement {
  pg_type type;
  bool variant;

  friend bool operator==(const placement&, const placement&) = default;
};

// Where v goes when its field's main column has type column (null: the main
// column, as NULL). A value that does not fit goes to the variant of its
// inferred type (infer()).
placement decide(pg_type column, const rapidjson::Value& v, const fit_rules& rules = {});

// Appends the text PostgreSQL reads as v in a column of type target (as
// chosen by decide()). Returns false, appending nothing, for null. The text is
// meant for a bind parameter or COPY (the caller escapes for COPY), never
// for splicing into SQL.
bool append_pg_text(std::string& out, const rapidjson::Value& v, pg_type target);
std::optional<std::string> to_pg_text(const rapidjson::Value& v, pg_type target);

// Compact JSON text of v for a jsonb value, by the rules above.
void append_jsonb_text(std::string& out, const rapidjson::Value& v);

struct column_def {
  std::string name;  // unquoted; quote_ident() it
  pg_type type;
  std::string field;     // the record field whose values it holds
  bool variant = false;  // holds field's values that do not fit the main column
  int precision = 0;     // numeric(precision, scale) when precision > 0
  int scale = 0;

  column_type full_type() const { return {type, precision, scale}; }

  friend bool operator==(const column_def&, const column_def&) = default;
};

// Values of a hinted column that went to a variant column while planning.
struct hint_misfit {
  std::string column;   // the hinted main column
  std::string variant;  // where they went
  std::int64_t count = 0;
};

// One record's values by column index (table_schema::columns()); reused from
// record to record so that rows cost no allocation once warm.
class row_text {
 public:
  size_t size() const { return cells_.size(); }
  // nullopt for SQL NULL. Valid until the row is filled again.
  std::optional<std::string_view> operator[](size_t column) const {
    const auto& c = cells_[column];
    if (c.size == null_cell) return std::nullopt;
    return std::string_view(text_.data() + c.offset, c.size);
  }

 private:
  friend class table_schema;
  static constexpr size_t null_cell = static_cast<size_t>(-1);
  struct cell {
    size_t offset;
    size_t size;
  };
  std::string text_;
  std::vector<cell> cells_;
};

// The data columns of one table (system columns are not in it) and the
// mapping of record fields onto them. A value: copy it before plan() and
// keep the copy if the transaction that adds the columns rolls back. Not
// thread-safe, not even const members (they cache the last record's layout).
class table_schema {
 public:
  table_schema() = default;
  // existing: the table's data columns as persisted (name, type, field,
  // variant). other_columns: further names the table has (they stay taken).
  // Throws std::invalid_argument when existing is inconsistent.
  explicit table_schema(const std::vector<column_def>& existing,
                        const std::vector<std::string>& other_columns = {});

  // In creation order; an index here is a cell index of row_text.
  const std::vector<column_def>& columns() const { return columns_; }
  const column_map& names() const { return names_; }

  // The hints that apply from now on (a hint's type applies to main columns
  // created after this call; existing columns keep theirs). A hinted field
  // gets its column with its first record, even when its value is null.
  void set_hints(const std::vector<column_hint>& hints);
  const column_hint* hint(std::string_view column) const;

  // Values of hinted columns that plan() sent to variant columns since the
  // last call, by column.
  std::vector<hint_misfit> take_misfits();

  // Adds the columns these records need and returns them in the order first
  // needed (record by record, field by field), which is the same for the same
  // records. Fields seen only as null get no column yet.
  std::vector<column_def> plan(std::span<const rapidjson::Value* const> records);
  std::vector<column_def> plan(const rapidjson::Value& record) {
    const rapidjson::Value* one[] = {&record};
    return plan(one);
  }

  // Fills row with record's values (record must be an object already passed
  // to plan()). Absent and null fields are NULL. Throws std::logic_error when
  // a value has no column, i.e. plan() was not called for the record.
  void fill_row(const rapidjson::Value& record, row_text& row) const;

  // Index in columns() of field's main column, or -1.
  int main_column(std::string_view field) const;

 private:
  struct field_columns {
    int main = -1;
    std::array<int, pg_type_count> variants = no_variants();
    fit_rules rules;
    bool hinted = false;
  };
  static constexpr std::array<int, pg_type_count> no_variants() {
    std::array<int, pg_type_count> a{};
    a.fill(-1);
    return a;
  }
  struct string_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct layout_slot {
    std::string key;
    int field = -1;
  };

  int find_field(std::string_view key, size_t position) const;
  int add_column(int field, std::string_view key, pg_type type, bool variant,
                 std::vector<column_def>& added);
  int add_main_column(int field, std::string_view key, const rapidjson::Value& v,
                      std::vector<column_def>& added);
  void apply_hint(field_columns& f) const;
  void note_misfit(const std::string& column, const std::string& variant);

  std::vector<column_def> columns_;
  column_map names_;
  std::vector<field_columns> fields_;
  std::unordered_map<std::string, int, string_hash, std::equal_to<>> field_index_;
  // Records of one resource share their keys and key order: remembering the
  // previous record's field at each position spares a hash per value.
  mutable std::vector<layout_slot> layout_;
  std::unordered_map<std::string, column_hint, string_hash, std::equal_to<>> hints_;
  std::vector<hint_misfit> misfits_;
};

}  // namespace restsync

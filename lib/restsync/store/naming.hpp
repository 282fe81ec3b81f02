// PostgreSQL identifiers for API field names: snake_case, the 63-byte limit,
// a stable field → column mapping per table, and quoting.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace restsync {

// PostgreSQL truncates longer identifiers (NAMEDATALEN - 1).
inline constexpr size_t max_identifier_bytes = 63;

// `createdOn` → `created_on`, `HTMLParser` → `html_parser`, `user-id` →
// `user_id`, `goal2Id` → `goal2_id`. ASCII letters are lower-cased; every other
// ASCII character (space, `-`, `.`, NUL, …) separates words; runs of
// separators become one `_` and trailing ones go, so a result never contains
// `__` (variant columns use `__v_` and can never clash with it). A name that
// starts with `_` keeps one leading `_` (`_id`). Non-ASCII characters are kept
// as is (quoted identifiers allow them); what PostgreSQL rejects in a name
// separates words too: UTF-8-encoded lone surrogates and bytes that are not
// UTF-8. Nothing left → `_`. No length limit is applied.
std::string snake_case(std::string_view field);

// name when it fits in 63 bytes; otherwise its first bytes (cut at a UTF-8
// character boundary) + `_` + 8 hex digits of a hash of the whole name, so two
// long names with a common prefix still differ.
std::string fit_identifier(std::string_view name);

// The column name a field would get on an empty table: fit_identifier(snake_case(field)).
std::string column_name(std::string_view field);

// Names that a data column never gets: anything starting with `_rs_`
// (restsync's own columns, `_rs_synced_at`, `_rs_deleted_at`, and any added
// later) and PostgreSQL's system column names (`ctid`, `xmin`, …), which
// CREATE/ALTER TABLE refuse.
bool is_reserved_column(std::string_view name);

// `"name"`, with `"` doubled. Throws std::invalid_argument for an empty name
// or one containing NUL, which PostgreSQL cannot represent.
std::string quote_ident(std::string_view name);

// `'text'` with `'` doubled; `E'…'` with `\` doubled when text has a
// backslash, so the result means the same whatever standard_conforming_strings
// says. Throws std::invalid_argument when text contains NUL.
std::string quote_literal(std::string_view text);

// _rs_columns keeps each field under a label, in a text column that is part
// of its primary key: text holds no NUL and only valid UTF-8, and a btree
// entry at most 2,704 bytes. The exact name is kept beside it (bytea).
inline constexpr size_t max_field_label_bytes = 1000;

// The field's name when text can hold it and it fits in
// max_field_label_bytes, as restsync has always stored it. Otherwise a
// readable stand-in: `\u0000` for NUL, `\udXXX` for a lone surrogate, `\xHH`
// for a byte that is not UTF-8, cut at a character with `…`. Two fields may
// get the same one (`a<NUL>` and `a\u0000`): field_labels tells them apart.
std::string field_label(std::string_view field);

// The labels of one table's fields: one per field, all distinct, kept as
// persisted.
class field_labels {
 public:
  // A field's label as persisted.
  void add(std::string field, std::string label);
  // The field's label: as persisted, else field_label(field), suffixed
  // ` #2`, ` #3`, … when another field has that one.
  const std::string& label(const std::string& field);

 private:
  std::unordered_map<std::string, std::string> by_field_;
  std::unordered_set<std::string> taken_;
};

// One persisted row of a table's mapping: the column that holds a field's
// values (variant empty) or those of its values of another type (variant =
// that type's tag, e.g. "text"; see schema.hpp).
struct column_assignment {
  std::string field;
  std::string variant;
  std::string column;

  friend bool operator==(const column_assignment&, const column_assignment&) = default;
};

// A table's field → column mapping. Columns are never renamed: the mapping is
// loaded as persisted and new fields get names that no other column has,
// decided in the order they are first assigned. Two fields with the same
// snake_case (`createdOn`, `created_on`) therefore keep the columns they got
// first, the newcomer getting `created_on_2`, and reloading the persisted
// mapping gives the same answer for every field.
class column_map {
 public:
  column_map() = default;
  // Throws std::invalid_argument when the rows are inconsistent: a field (and
  // variant) twice, a column twice, a reserved or over-long column name, or
  // a variant whose field has no main column.
  explicit column_map(const std::vector<column_assignment>& persisted);

  // Keeps a name that the table has outside the mapping away from fields.
  void reserve(std::string_view column);

  // The column for field (and variant), choosing and recording one on first
  // use. A variant's name is `<main column>__v_<variant>`, so the field's main
  // column must be assigned first. References stay valid for the map's life.
  const column_assignment& assign(std::string_view field, std::string_view variant = {});

  const column_assignment* find(std::string_view field, std::string_view variant = {}) const;

  bool is_taken(std::string_view column) const;

  // Assignments made since construction or the last mark_persisted(), in the
  // order made: what the store has to save.
  std::vector<column_assignment> fresh() const;
  void mark_persisted() { persisted_ = entries_.size(); }

  const std::deque<column_assignment>& all() const { return entries_; }

 private:
  struct string_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using index = std::unordered_map<std::string, size_t, string_hash, std::equal_to<>>;

  static std::string variant_key(std::string_view field, std::string_view variant);
  std::string free_name(std::string candidate) const;
  const column_assignment& add(column_assignment entry);

  std::deque<column_assignment> entries_;
  size_t persisted_ = 0;
  index main_;
  index variants_;
  std::unordered_set<std::string, string_hash, std::equal_to<>> taken_;
};

}  // namespace restsync

#include "restsync/store/naming.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace restsync {
namespace {

bool is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_word(unsigned char c) { return is_upper(c) || is_lower(c) || is_digit(c); }

// U+D800..U+DFFF encoded as UTF-8, as page.hpp lets a lone `\ud83d` or
// `\udc00` through; 0 when there is none at i, else its code unit.
unsigned surrogate_at(std::string_view s, size_t i) {
  if (i + 2 >= s.size() || static_cast<unsigned char>(s[i]) != 0xED) return 0;
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  const auto b2 = static_cast<unsigned char>(s[i + 2]);
  if ((b1 & 0xE0) != 0xA0 || (b2 & 0xC0) != 0x80) return 0;
  return 0xD000u | (b1 & 0x3Fu) << 6 | (b2 & 0x3Fu);
}

// The length of the UTF-8 character at i as PostgreSQL takes it (no
// overlong form, no surrogate, nothing beyond U+10FFFF), or 0.
size_t utf8_length_at(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t n = 0;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  if (c >= 0xE0 && c <= 0xEF) n = 3;
  if (c >= 0xF0 && c <= 0xF4) n = 4;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (c == 0xE0 && b1 < 0xA0) return 0;   // overlong
  if (c == 0xED && b1 >= 0xA0) return 0;  // a surrogate
  if (c == 0xF0 && b1 < 0x90) return 0;   // overlong
  if (c == 0xF4 && b1 >= 0x90) return 0;  // beyond U+10FFFF
  return n;
}

// FNV-1a: fixed by its definition, so names stay the same across builds and hosts.
uint32_t stable_hash(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return static_cast<uint32_t>(h ^ (h >> 32));
}

// The longest prefix of s of at most n bytes that ends on a character boundary.
std::string_view utf8_prefix(std::string_view s, size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string_view without_trailing_underscores(std::string_view s) {
  while (s.size() > 1 && s.back() == '_') s.remove_suffix(1);
  return s;
}

// base + tail within 63 bytes, cutting base (never tail).
std::string fit_with_tail(std::string_view base, std::string_view tail) {
  if (base.size() + tail.size() <= max_identifier_bytes) {
    std::string out(base);
    out += tail;
    return out;
  }
  std::string out(
      without_trailing_underscores(utf8_prefix(base, max_identifier_bytes - tail.size())));
  out += tail;
  return out;
}

constexpr std::string_view system_columns[] = {"tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"};

}  // namespace

std::string snake_case(std::string_view field) {
  std::string out;
  out.reserve(field.size() + 4);
  if (!field.empty() && field.front() == '_') out += '_';
  bool pending_separator = false;
  for (size_t i = 0; i < field.size(); ++i) {
    const auto c = static_cast<unsigned char>(field[i]);
    // Whole UTF-8 characters are kept; what PostgreSQL would refuse in a name
    // (a surrogate, a byte that is not UTF-8) separates words.
    const size_t n = c < 0x80 ? (is_word(c) ? 1 : 0) : utf8_length_at(field, i);
    if (n == 0) {
      pending_separator = true;
      if (surrogate_at(field, i) != 0) i += 2;
      continue;
    }
    if (is_upper(c) && !out.empty() && out.back() != '_') {
      const auto prev = static_cast<unsigned char>(field[i - 1]);
      const bool next_lower =
          i + 1 < field.size() && is_lower(static_cast<unsigned char>(field[i + 1]));
      // `createdOn`, `goal2Id`: a capital after a lower-case letter or a digit
      // starts a word; `HTMLParser`: so does the last capital of a run when a
      // lower-case letter follows.
      if (!is_upper(prev) || next_lower) pending_separator = true;
    }
    if (pending_separator && !out.empty() && out.back() != '_') out += '_';
    pending_separator = false;
    if (is_upper(c)) {
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out.append(field.substr(i, n));
    }
    i += n - 1;
  }
  if (out.size() > 1 && out.back() == '_') out.pop_back();
  if (out.empty()) out = "_";
  return out;
}

std::string fit_identifier(std::string_view name) {
  if (name.size() <= max_identifier_bytes) return std::string(name);
  return fit_with_tail(name, fmt::format("_{:08x}", stable_hash(name)));
}

std::string column_name(std::string_view field) { return fit_identifier(snake_case(field)); }

std::string field_label(std::string_view field) {
  std::string out;
  out.reserve(std::min(field.size(), max_field_label_bytes));
  for (size_t i = 0; i < field.size() && out.size() <= max_field_label_bytes;) {
    const auto n = field[i] == '\0' ? 0 : utf8_length_at(field, i);
    if (n != 0) {
      out.append(field.substr(i, n));
      i += n;
    } else if (field[i] == '\0') {
      out += "\\u0000";
      ++i;
    } else if (const auto unit = surrogate_at(field, i); unit != 0) {
      out += fmt::format("\\u{:04x}", unit);
      i += 3;
    } else {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(field[i]));
      ++i;
    }
  }
  if (out.size() > max_field_label_bytes) {
    constexpr std::string_view ellipsis = "…";
    out.resize(utf8_prefix(out, max_field_label_bytes - ellipsis.size()).size());
    out += ellipsis;
  }
  return out;
}

void field_labels::add(std::string field, std::string label) {
  taken_.insert(label);
  by_field_.insert_or_assign(std::move(field), std::move(label));
}

const std::string& field_labels::label(const std::string& field) {
  if (const auto it = by_field_.find(field); it != by_field_.end()) return it->second;
  const auto base = field_label(field);
  auto candidate = base;
  for (unsigned n = 2; taken_.contains(candidate); ++n) candidate = fmt::format("{} #{}", base, n);
  taken_.insert(candidate);
  return by_field_.emplace(field, std::move(candidate)).first->second;
}

bool is_reserved_column(std::string_view name) {
  if (name.starts_with("_rs_")) return true;
  for (const auto s : system_columns) {
    if (name == s) return true;
  }
  return false;
}

std::string quote_ident(std::string_view name) {
  if (name.empty()) throw std::invalid_argument("an SQL identifier cannot be empty");
  if (name.find('\0') != std::string_view::npos) {
    throw std::invalid_argument("an SQL identifier cannot contain NUL");
  }
  std::string out;
  out.reserve(name.size() + 2);
  out += '"';
  for (const char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string quote_literal(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    throw std::invalid_argument("an SQL literal cannot contain NUL");
  }
  std::string out;
  out.reserve(text.size() + 3);
  if (text.find('\\') != std::string_view::npos) out += 'E';
  out += '\'';
  for (const char c : text) {
    if (c == '\'' || c == '\\') out += c;
    out += c;
  }
  out += '\'';
  return out;
}

column_map::column_map(const std::vector<column_assignment>& persisted) {
  for (const auto& row : persisted) {
    if (row.column.empty() || row.column.size() > max_identifier_bytes ||
        row.column.find('\0') != std::string::npos) {
      throw std::invalid_argument(fmt::format(
          "column mapping: field `{}` has an invalid column name `{}`", row.field, row.column));
    }
    if (is_reserved_column(row.column)) {
      throw std::invalid_argument(fmt::format(
          "column mapping: field `{}` maps to reserved column `{}`", row.field, row.column));
    }
    if (taken_.contains(row.column)) {
      throw std::invalid_argument(
          fmt::format("column mapping: column `{}` is mapped twice", row.column));
    }
    if (row.variant.empty() ? main_.contains(row.field)
                            : variants_.contains(variant_key(row.field, row.variant))) {
      throw std::invalid_argument(
          fmt::format("column mapping: field `{}`{} is mapped twice", row.field,
                      row.variant.empty() ? "" : " variant " + row.variant));
    }
    add(row);
  }
  for (const auto& row : persisted) {
    if (!row.variant.empty() && !main_.contains(row.field)) {
      throw std::invalid_argument(
          fmt::format("column mapping: variant column `{}` of field `{}` has no main column",
                      row.column, row.field));
    }
  }
  persisted_ = entries_.size();
}

void column_map::reserve(std::string_view column) { taken_.emplace(column); }

bool column_map::is_taken(std::string_view column) const {
  return is_reserved_column(column) || taken_.contains(column);
}

std::string column_map::variant_key(std::string_view field, std::string_view variant) {
  // Variant tags are plain ASCII words, so the first NUL ends the tag.
  std::string key(variant);
  key += '\0';
  key += field;
  return key;
}

std::string column_map::free_name(std::string candidate) const {
  if (!is_taken(candidate)) return candidate;
  for (unsigned n = 2;; ++n) {
    auto name =
        fit_with_tail(candidate, fmt::format("{}{}", candidate.back() == '_' ? "" : "_", n));
    if (!is_taken(name)) return name;
  }
}

const column_assignment& column_map::add(column_assignment entry) {
  taken_.insert(entry.column);
  auto& slot = entry.variant.empty() ? main_[entry.field]
                                     : variants_[variant_key(entry.field, entry.variant)];
  slot = entries_.size();
  entries_.push_back(std::move(entry));
  return entries_.back();
}

const column_assignment* column_map::find(std::string_view field, std::string_view variant) const {
  if (variant.empty()) {
    const auto it = main_.find(field);
    return it == main_.end() ? nullptr : &entries_[it->second];
  }
  const auto it = variants_.find(variant_key(field, variant));
  return it == variants_.end() ? nullptr : &entries_[it->second];
}

const column_assignment& column_map::assign(std::string_view field, std::string_view variant) {
  if (const auto* found = find(field, variant)) return *found;
  if (variant.empty()) {
    auto candidate = column_name(field);
    // `_rs_synced_at` as an API field: drop the `_` rather than suffix it, as
    // `_rs_synced_at_2` would still sit in restsync's namespace.
    if (candidate.starts_with("_rs_")) candidate.erase(0, 1);
    return add({std::string(field), {}, free_name(std::move(candidate))});
  }
  const auto* main = find(field, {});
  if (main == nullptr) {
    throw std::logic_error(
        fmt::format("variant `{}` of field `{}` assigned before its main column", variant, field));
  }
  const auto tail = fmt::format("__v_{}", variant);
  auto candidate = main->column + tail;
  if (candidate.size() > max_identifier_bytes) {
    candidate = fit_with_tail(main->column, fmt::format("_{:08x}{}", stable_hash(candidate), tail));
  }
  return add({std::string(field), std::string(variant), free_name(std::move(candidate))});
}

std::vector<column_assignment> column_map::fresh() const {
  return {entries_.begin() + static_cast<std::ptrdiff_t>(persisted_), entries_.end()};
}

}  // namespace restsync

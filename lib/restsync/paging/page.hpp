// A response body read as one page of records: the parsed JSON, the records
// the data selector reaches, and the paging hints (reported total, next cursor).
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace restsync {

// Where a page's records and hints sit in a body. Paths are dotted keys
// (`_data.partialCollection`), optionally prefixed by `$.`; `$` alone is the
// whole body. Keys containing dots cannot be addressed.
class page_spec {
 public:
  // Throws std::invalid_argument for an empty key (`a..b`, `a.`, `.a`).
  // An empty total_path or next_path means "none"; an empty data selector is `$`.
  explicit page_spec(std::string_view data_selector, std::string_view total_path = {},
                     std::string_view next_path = {}, std::string_view errors_key = "_errors");

  // Alternative data selectors, one per shape the body may take, tried in
  // order (docs/configuration.md, data_selector): the first that reaches
  // records wins. A selector that finds nothing (its first key absent, or a
  // null on the way) is passed over; when none reaches records, the page is
  // empty if every one found nothing, else an error that names what each
  // one found. A total_path inside the records the winning selector reached
  // (`_data.totalCount` where `_data` is that array, or a singleton) is not
  // read: that shape has no total. One selector is exactly the constructor
  // above. Throws std::invalid_argument as above, or for no selector.
  explicit page_spec(const std::vector<std::string>& data_selectors,
                     std::string_view total_path = {}, std::string_view next_path = {},
                     std::string_view errors_key = "_errors");

  // The selector as written, or `[a, b]` for alternatives.
  const std::string& data_selector() const { return data_selector_; }

 private:
  friend class page;
  std::string data_selector_;
  std::vector<std::string> data_;  // empty: the whole body
  // Alternatives (more than one): each selector's text and keys; data_ is
  // then unused and data_selector_ lists them.
  std::vector<std::string> alternative_texts_;
  std::vector<std::vector<std::string>> alternatives_;
  std::vector<std::string> total_;  // empty: no total
  std::vector<std::string> next_;   // empty: no cursor
  std::string errors_key_;          // empty: the API has no error envelope
};

// One entry of an API's `_errors` array. The code is kept as text because
// vendors send it as a number or as a string.
struct api_error {
  std::string code;
  std::string message;
};

struct page_error {
  enum class kind {
    malformed,   // not JSON, or nested deeper than page::max_depth
    not_object,  // the body is not an object and the selector is not `$`
    api_errors,  // a non-empty `_errors`: the request failed, whatever the status
    selector,    // the selector does not lead to records (wrapper, scalar, missing key)
    bad_record,  // a collection element that is not an object
    bad_total,   // total_path holds something that is not a non-negative integer
    bad_next,    // next_path holds something that is not a string or a number
  };
  kind what;
  std::string message;
  std::vector<api_error> api_errors;  // for kind::api_errors
};

// Owns the parsed body; records point into it and live as long as the page.
//
// Numbers: integers that fit int64 or uint64 are RapidJSON integers; other
// numbers are doubles, correctly rounded from their literal (std::from_chars:
// RapidJSON 1.1's own kParseFullPrecisionFlag path returns wrong values, e.g.
// -6.5e-201 for 0.184467440737095516156, and its default path can be off by
// an ulp). Two kinds of number are kept verbatim instead, as a string value
// holding a mark byte followed by the literal:
//   - a *big number* (big_number_mark): a literal that neither holds, an
//     integer beyond 64 bits, which RapidJSON would round to a double, or a
//     number beyond the range of a double (`-123…`, `1e-400`);
//   - a *verbatim double* (verbatim_double_mark): a double whose literal has
//     another decimal value than the double's shortest form, because it has
//     more digits than a double holds: `0.10000000000000001`, or
//     `33.333333333333339` from a serialiser that is not shortest, for the
//     double written 33.333333333333336. It is a double for every purpose
//     but its text, which keeps what the API sent (jsonb and numeric keep
//     decimal digits exactly). A literal that differs from the shortest form
//     in spelling only (`1.50`, `1e2`) is a plain double.
// The parse validates UTF-8, so no JSON string can start with either byte
// and the marks are unambiguous. Use is_marked_number() and
// marked_number_text() before treating a string value as a string. (Parsing
// every number as a string, kParseNumbersAsStringsFlag, parses no faster —
// measured on a 74 MiB body — and leaves every number a string to convert on
// each use and to tell apart from real strings.) RapidJSON refuses outright a
// literal whose exponent or digit count is far beyond the double range
// (`1e400`, an integer of 309+ digits): malformed.
//
// Strings are decoded in place in the body the page keeps (a third faster
// than copying them out on the same body).
//
// Bodies must be UTF-8 (RFC 8259); one with invalid UTF-8 is malformed, as
// PostgreSQL could not store it anyway. `\u0000` and lone surrogate escapes
// are valid JSON and reach the values and keys as is: a lone surrogate of
// either half (`\udc00`, or `\ud83d` from an API that cut UTF-16 text
// mid-character) as the three bytes UTF-8 would give its code unit, a pair as
// its character. schema.hpp decides how they are stored.
class page {
 public:
  static constexpr char big_number_mark = '\xff';
  static constexpr char verbatim_double_mark = '\xfe';
  static constexpr int max_depth = 512;

  // Parses body (consumed) and selects its records per spec.
  static std::variant<page, page_error> read(std::string body, const page_spec& spec);

  std::span<const rapidjson::Value* const> records() const { return records_; }
  // The total the API reported at total_path, if it reported one.
  const std::optional<int64_t>& total() const { return total_; }
  // The cursor or URL at next_path; absent when missing, null or "".
  const std::optional<std::string>& next() const { return next_; }
  // The hint at next_path was a JSON number.
  bool next_is_number() const { return next_is_number_; }
  // The selector landed on one object, which is the only record.
  bool singleton() const { return singleton_; }
  const rapidjson::Document& document() const { return *doc_; }

  // Sets each member of fields (an object) in every record, replacing a
  // member of the same name: a dependent resource's parent values.
  void add_fields(const rapidjson::Value& fields);

 private:
  page() = default;
  // Strings are parsed in place: the document points into the body, so
  // neither may move (hence both on the heap) and the body is not JSON after.
  std::unique_ptr<std::string> body_;
  std::unique_ptr<rapidjson::Document> doc_;
  std::vector<const rapidjson::Value*> records_;
  std::optional<int64_t> total_;
  std::optional<std::string> next_;
  bool next_is_number_ = false;
  bool singleton_ = false;
};

// A number the document holds as a marked string: a big number or a verbatim double.
inline bool is_marked_number(const rapidjson::Value& v) {
  return v.IsString() && v.GetStringLength() > 1 &&
         (v.GetString()[0] == page::big_number_mark ||
          v.GetString()[0] == page::verbatim_double_mark);
}

inline bool is_big_number(const rapidjson::Value& v) {
  return is_marked_number(v) && v.GetString()[0] == page::big_number_mark;
}

inline bool is_verbatim_double(const rapidjson::Value& v) {
  return is_marked_number(v) && v.GetString()[0] == page::verbatim_double_mark;
}

// The literal of a marked number, as the body wrote it.
inline std::string_view marked_number_text(const rapidjson::Value& v) {
  return {v.GetString() + 1, v.GetStringLength() - 1};
}

// The double a verbatim double (and only that) stands for: its literal,
// correctly rounded.
double verbatim_double_value(const rapidjson::Value& v);

}  // namespace restsync

#include "restsync/paging/page.hpp"

#include <fmt/format.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "restsync/paging/json_path.hpp"

namespace restsync {
namespace {

std::vector<std::string> split_path(std::string_view path, std::string_view what) {
  std::vector<std::string> keys;
  if (path == "$") return keys;
  if (path.starts_with("$.")) path.remove_prefix(2);
  for (;;) {
    const auto dot = path.find('.');
    const auto key = path.substr(0, dot);
    if (key.empty()) {
      throw std::invalid_argument(fmt::format("{} has an empty key", what));
    }
    keys.emplace_back(key);
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return keys;
}

// A bounded stream, so that the body needs no terminating NUL (an embedded
// NUL reads as the end and is caught after the parse), that also serves as
// the in-situ output: strings are decoded in place and the document points
// at them, sparing a copy of every string. Copyable for speed, as RapidJSON's
// own StringStream.
struct body_stream {
  using Ch = char;
  char* begin_;
  char* cur_;
  char* end_;
  char* dst_ = nullptr;

  Ch Peek() const { return cur_ != end_ ? *cur_ : '\0'; }
  Ch Take() { return cur_ != end_ ? *cur_++ : '\0'; }
  size_t Tell() const { return static_cast<size_t>(cur_ - begin_); }
  Ch* PutBegin() { return dst_ = cur_; }
  // In place, every Put follows a Take that advanced, so dst_ trails cur_;
  // except at the end, where RapidJSON still copies the tail bytes of a
  // truncated UTF-8 sequence (the parse then fails): those are dropped.
  void Put(Ch c) {
    if (dst_ != end_) *dst_++ = c;
  }
  void Flush() {}
  size_t PutEnd(Ch* begin) { return static_cast<size_t>(dst_ - begin); }
};

}  // namespace
}  // namespace restsync

namespace rapidjson {
template <>
struct StreamTraits<restsync::body_stream> {
  enum { copyOptimization = 1 };
};
}  // namespace rapidjson

namespace restsync {
namespace {

// RapidJSON lets a lone low surrogate escape (`\udc00`) through, encoded as
// UTF-8 would encode the code unit, but refuses a lone high one (`\ud83d`)
// and with it the whole page; an API that cuts UTF-16 text mid-character
// sends exactly that. So the backslash of each lone high escape is replaced
// by this byte before the parse, and the parse's encoding reads it back as
// the code unit, both halves alike. It is never UTF-8, and a body that has
// it already is not marked: the parse meets it only where it was put.
constexpr char lone_high_mark = '\xf8';

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code unit of the `\uXXXX` escape at i, or -1.
long escaped_unit(std::string_view s, size_t i) {
  if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u') return -1;
  long unit = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    const int v = hex_value(s[k]);
    if (v < 0) return -1;
    unit = unit * 16 + v;
  }
  return unit;
}

bool is_high_surrogate(long unit) { return unit >= 0xD800 && unit <= 0xDBFF; }
bool is_low_surrogate(long unit) { return unit >= 0xDC00 && unit <= 0xDFFF; }

// Whether it marked the body: not when it has the byte already (it is not
// UTF-8 then, and the parse must say so where the byte is).
bool mark_lone_high_surrogates(std::string& body) {
  if (body.find(lone_high_mark) != std::string::npos) return false;
  // In JSON every backslash starts an escape, inside a string, so stepping
  // from escape to escape keeps in step with the strings.
  for (size_t i = body.find('\\'); i != std::string::npos; i = body.find('\\', i)) {
    const long unit = escaped_unit(body, i);
    if (unit < 0) {
      i += 2;
    } else if (!is_high_surrogate(unit)) {
      i += 6;
    } else if (is_low_surrogate(escaped_unit(body, i + 6))) {
      i += 12;
    } else {
      body[i] = lone_high_mark;
      i += 6;
    }
  }
  return true;
}

// UTF-8 in which a marked lone high surrogate escape stands for its code
// unit: for bodies that mark_lone_high_surrogates() marked, and only those.
struct lone_surrogate_utf8 : rapidjson::UTF8<char> {
  template <typename InputStream, typename OutputStream>
  static bool Validate(InputStream& is, OutputStream& os) {
    if (is.Peek() != lone_high_mark) return UTF8::Validate(is, os);
    is.Take();  // the mark
    is.Take();  // `u`
    unsigned unit = 0;
    for (int k = 0; k < 4; ++k) unit = unit * 16 + static_cast<unsigned>(hex_value(is.Take()));
    Encode(os, unit);
    return true;
  }
};

bool is_number_char(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A number literal's decimal value, significand × 10^exponent without
// trailing zeros in the significand (zero: 0 × 10^0), and how many
// significant digits it has. Only 19 digits are held: more is reported as 20.
struct decimal {
  uint64_t significand = 0;
  int64_t exponent = 0;
  int digits = 0;
};

// Reads what JSON and to_chars write: -?digits(.digits)?([eE][+-]?digits)?
decimal to_decimal(std::string_view literal) {
  const char* p = literal.data();
  const char* const end = p + literal.size();
  if (p != end && *p == '-') ++p;
  decimal out;
  bool more = false;  // a non-zero digit beyond the 19 held
  // Leading zeros leave the significand 0 and count as no digit.
  for (; p != end && is_digit(*p); ++p) {
    if (out.digits < 19) {
      out.significand = out.significand * 10 + static_cast<uint64_t>(*p - '0');
      out.digits += out.significand != 0;
    } else {
      more |= *p != '0';
      ++out.exponent;
    }
  }
  if (p != end && *p == '.') {
    for (++p; p != end && is_digit(*p); ++p) {
      if (out.digits < 19) {
        out.significand = out.significand * 10 + static_cast<uint64_t>(*p - '0');
        out.digits += out.significand != 0;
        --out.exponent;
      } else {
        more |= *p != '0';
      }
    }
  }
  if (out.significand == 0) return {};
  if (p != end) {
    ++p;
    const bool negative = p != end && *p == '-';
    if (p != end && (*p == '-' || *p == '+')) ++p;
    // Saturates: no body has the 10^15 digits that could offset such an exponent.
    constexpr int64_t cap = 1'000'000'000'000'000;
    int64_t e = 0;
    for (; p != end; ++p) e = std::min(cap, e * 10 + (*p - '0'));
    out.exponent += negative ? -e : e;
  }
  while (out.significand % 10 == 0) {
    out.significand /= 10;
    ++out.exponent;
    --out.digits;
  }
  if (more) out.digits = 20;
  return out;
}

// Whether the literal has the decimal value of d's shortest form, the text
// schema.hpp writes for a double; a literal with more digits than a double
// holds may not (page.hpp: verbatim doubles).
bool has_shortest_value(std::string_view literal, double d) {
  // A decimal of at most 15 significant digits (DBL_DIG) survives the round
  // trip through a normal double, so it is the shortest form itself; no
  // shortest form has more than 17. Formatting d is left for the 16s and 17s.
  constexpr int safe_digits = std::numeric_limits<double>::digits10;
  const bool normal = d == 0 || std::fabs(d) >= std::numeric_limits<double>::min();
  // The literal has a '.', 'e' or 'E': 16 characters hold at most 15 digits.
  if (normal && literal.size() <= safe_digits + 1) return true;
  const auto l = to_decimal(literal);
  if (normal && l.digits <= safe_digits) return true;
  if (l.digits > std::numeric_limits<double>::max_digits10) return false;
  std::array<char, 32> shortest;
  const auto r = std::to_chars(shortest.data(), shortest.data() + shortest.size(), d,
                               std::chars_format::scientific);
  const auto s = to_decimal({shortest.data(), r.ptr});
  return s.significand == l.significand && s.exponent == l.exponent;
}

// Builds the document, but reads doubles and big numbers from their literals and
// refuses nesting that would exhaust the stack of the recursive parser (and
// of every recursive walk over the document after it).
class document_builder {
 public:
  using Ch = char;

  document_builder(rapidjson::Document& doc, const body_stream& stream)
      : doc_(doc), stream_(stream) {}

  bool too_deep() const { return too_deep_; }

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned i) { return doc_.Uint(i); }
  bool Int64(int64_t i) { return doc_.Int64(i); }
  bool Uint64(uint64_t i) { return doc_.Uint64(i); }
  bool Double(double) {
    // Called for literals with a fraction or an exponent and for integers
    // beyond 64 bits; RapidJSON's own value is not trusted (see page.hpp).
    const auto literal = current_literal();
    if (literal.find_first_of(".eE") != std::string_view::npos) {
      double d = 0;
      const auto r = std::from_chars(literal.data(), literal.data() + literal.size(), d);
      if (r.ec == std::errc() && r.ptr == literal.data() + literal.size()) {
        if (has_shortest_value(literal, d)) return doc_.Double(d);
        return marked(page::verbatim_double_mark, literal);
      }
    }
    return marked(page::big_number_mark, literal);
  }
  bool RawNumber(const Ch* str, rapidjson::SizeType length, bool copy) {
    return doc_.RawNumber(str, length, copy);
  }
  bool String(const Ch* str, rapidjson::SizeType length, bool copy) {
    return doc_.String(str, length, copy);
  }
  bool StartObject() { return enter() && doc_.StartObject(); }
  bool Key(const Ch* str, rapidjson::SizeType length, bool copy) {
    return doc_.Key(str, length, copy);
  }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    return doc_.EndObject(members);
  }
  bool StartArray() { return enter() && doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    return doc_.EndArray(elements);
  }

 private:
  bool marked(char mark, std::string_view literal) {
    marked_.assign(1, mark);
    marked_.append(literal);
    return doc_.String(marked_.data(), static_cast<rapidjson::SizeType>(marked_.size()), true);
  }

  bool enter() {
    if (++depth_ <= page::max_depth) return true;
    too_deep_ = true;
    return false;
  }

  // The text of the number just parsed. RapidJSON advances a copy of the
  // stream and writes it back after the handler returns, so the stream we
  // hold is at the literal's first character; should that ever change, it
  // is just past the literal, which cannot be a number character.
  std::string_view current_literal() const {
    const char* p = stream_.cur_;
    if (p != stream_.end_ && (*p == '-' || (*p >= '0' && *p <= '9'))) {
      const char* e = p;
      while (e != stream_.end_ && is_number_char(*e)) ++e;
      return {p, static_cast<size_t>(e - p)};
    }
    const char* b = p;
    while (b != stream_.begin_ && is_number_char(b[-1])) --b;
    return {b, static_cast<size_t>(p - b)};
  }

  rapidjson::Document& doc_;
  const body_stream& stream_;
  std::string marked_;
  int depth_ = 0;
  bool too_deep_ = false;
};

const char* type_name(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "boolean";
    case rapidjson::kObjectType:
      return "object";
    case rapidjson::kArrayType:
      return "array";
    case rapidjson::kStringType:
      return is_marked_number(v) ? "number" : "string";
    case rapidjson::kNumberType:
      return "number";
  }
  return "value";
}

std::string_view key_of(const rapidjson::Value& key) {
  return {key.GetString(), key.GetStringLength()};
}

const rapidjson::Value* member(const rapidjson::Value& object, std::string_view key) {
  const auto it = object.FindMember(rapidjson::Value(
      rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size()))));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string key_list(const rapidjson::Value& object) {
  constexpr rapidjson::SizeType shown = 20;
  std::string out = "[";
  rapidjson::SizeType n = 0;
  for (const auto& m : object.GetObject()) {
    if (n == shown) {
      out += fmt::format(", … {} more", object.MemberCount() - shown);
      break;
    }
    if (n++ != 0) out += ", ";
    out += key_of(m.name);
  }
  out += ']';
  return out;
}

std::string joined(std::span<const std::string> keys, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (i != 0) out += '.';
    out += keys[i];
  }
  return out;
}

std::string scalar_text(const rapidjson::Value& v) {
  if (v.IsString()) {
    if (is_marked_number(v)) return std::string(marked_number_text(v));
    return std::string(v.GetString(), v.GetStringLength());
  }
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsDouble()) {
    std::array<char, 32> buf;
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v.GetDouble());
    return std::string(buf.data(), r.ptr);
  }
  return type_name(v);
}

api_error to_api_error(const rapidjson::Value& e) {
  if (!e.IsObject()) return {"", scalar_text(e)};
  api_error out;
  if (const auto* code = member(e, "code"); code && !code->IsNull()) out.code = scalar_text(*code);
  for (const char* key : {"message", "error", "detail", "description", "title"}) {
    if (const auto* m = member(e, key); m && !m->IsNull() && !m->IsObject() && !m->IsArray()) {
      out.message = scalar_text(*m);
      break;
    }
  }
  if (out.message.empty()) out.message = fmt::format("(no message; keys {})", key_list(e));
  return out;
}

bool is_empty_errors(const rapidjson::Value& v) {
  return v.IsNull() || v.IsFalse() || (v.IsArray() && v.Empty()) ||
         (v.IsObject() && v.ObjectEmpty()) || (v.IsString() && v.GetStringLength() == 0);
}

std::optional<page_error> check_errors(const rapidjson::Value& root, const std::string& key) {
  const auto* errors = member(root, key);
  if (errors == nullptr || is_empty_errors(*errors)) return std::nullopt;
  page_error out{page_error::kind::api_errors, {}, {}};
  if (errors->IsArray()) {
    for (const auto& e : errors->GetArray()) out.api_errors.push_back(to_api_error(e));
  } else {
    out.api_errors.push_back(to_api_error(*errors));
  }
  out.message = fmt::format("the API answered with {}:", key);
  constexpr size_t shown = 10;
  for (size_t i = 0; i < out.api_errors.size() && i < shown; ++i) {
    const auto& e = out.api_errors[i];
    out.message += i == 0 ? " " : "; ";
    if (!e.code.empty()) out.message += fmt::format("[{}] ", e.code);
    out.message += e.message;
  }
  if (out.api_errors.size() > shown) {
    out.message += fmt::format("; … {} more", out.api_errors.size() - shown);
  }
  return out;
}

// Key names under which APIs put a page's records, and names of the paging
// fields that sit beside them. Either beside an array of objects marks a
// wrapper rather than a record.
constexpr std::string_view collection_keys[] = {
    "partialCollection", "items",   "data", "results", "records", "collection", "entries",
    "elements",          "rows",    "hits", "list",    "objects", "_data",      "_items",
    "_embedded",         "content", "nodes"};
constexpr std::string_view paging_keys[] = {
    "totalCount",  "total",        "total_count",   "count",      "offset",      "limit",
    "page",        "pageSize",     "page_size",     "perPage",    "per_page",    "totalItems",
    "total_items", "totalResults", "total_results", "totalPages", "total_pages", "next",
    "nextPage",    "next_page",    "cursor",        "nextCursor", "next_cursor", "hasMore"};

template <size_t N>
bool is_one_of(std::string_view key, const std::string_view (&keys)[N]) {
  for (const auto k : keys) {
    if (k == key) return true;
  }
  return false;
}

bool is_array_of_objects(const rapidjson::Value& v) {
  if (!v.IsArray()) return false;
  for (const auto& e : v.GetArray()) {
    if (!e.IsObject()) return false;
  }
  return true;
}

// The member that holds the records when object is a collection wrapper.
const rapidjson::Value* wrapped_collection(const rapidjson::Value& object) {
  bool has_paging = false;
  for (const auto& m : object.GetObject()) {
    if (is_one_of(key_of(m.name), paging_keys) && !m.value.IsObject() && !m.value.IsArray()) {
      has_paging = true;
      break;
    }
  }
  const rapidjson::Value* candidate = nullptr;
  for (const auto& m : object.GetObject()) {
    if (!is_array_of_objects(m.value)) continue;
    if (is_one_of(key_of(m.name), collection_keys)) return &m.name;
    if (has_paging && candidate == nullptr) candidate = &m.name;
  }
  return candidate;
}

std::optional<int64_t> parse_count(const rapidjson::Value& v) {
  if (v.IsInt64()) {
    if (v.GetInt64() >= 0) return v.GetInt64();
    return std::nullopt;
  }
  if (v.IsDouble()) {
    const double d = v.GetDouble();
    if (d >= 0 && d < 9.2233720368547758e18 && d == static_cast<double>(static_cast<int64_t>(d))) {
      return static_cast<int64_t>(d);
    }
    return std::nullopt;
  }
  if (v.IsString() && !is_marked_number(v)) {
    const char* b = v.GetString();
    const char* e = b + v.GetStringLength();
    int64_t n = 0;
    const auto r = std::from_chars(b, e, n);
    if (r.ec == std::errc() && r.ptr == e && n >= 0 && b != e && *b != '-') return n;
  }
  return std::nullopt;
}

page_error selector_error(std::string message) {
  return {page_error::kind::selector, std::move(message), {}};
}

// What one data selector found in a body: records (an array of objects, or
// one object that is not a wrapper: singleton), nothing, or an error saying
// what it found instead.
struct selection {
  std::optional<page_error> error;
  std::vector<const rapidjson::Value*> records;
  bool singleton = false;
  // The whole path is present (its value may be null): the body has this shape.
  bool reached = false;
};

// keys from root (an object unless keys is empty); text names the selector.
// Absent at the top or null anywhere: an empty collection.
selection select(const rapidjson::Value& root, std::span<const std::string> keys,
                 const std::string& text) {
  selection out;
  if (!keys.empty() && !root.IsObject()) {
    out.error = page_error{page_error::kind::not_object,
                           fmt::format("the body is a JSON {}, not an object (data_selector `{}`)",
                                       type_name(root), text),
                           {}};
    return out;
  }
  const rapidjson::Value* data = &root;
  size_t depth = 0;
  for (size_t i = 0; i < keys.size() && data != nullptr; ++i) {
    const auto* next = member(*data, keys[i]);
    if (next == nullptr && i != 0) {
      out.error =
          selector_error(fmt::format("data_selector `{}`: `{}` has no key `{}`; its keys are {}",
                                     text, joined(keys, i), keys[i], key_list(*data)));
      return out;
    }
    if (next != nullptr && i + 1 < keys.size() && !next->IsObject() && !next->IsNull()) {
      out.error = selector_error(fmt::format("data_selector `{}`: `{}` is a JSON {}, not an object",
                                             text, joined(keys, i + 1), type_name(*next)));
      return out;
    }
    if (next != nullptr) depth = i + 1;
    data = next != nullptr && next->IsNull() ? nullptr : next;
  }
  out.reached = depth == keys.size();
  if (data != nullptr && data->IsNull()) data = nullptr;
  if (data == nullptr) return out;
  if (data->IsArray()) {
    out.records.reserve(data->Size());
    rapidjson::SizeType index = 0;
    for (const auto& e : data->GetArray()) {
      if (!e.IsObject()) {
        out.records.clear();
        out.error =
            page_error{page_error::kind::bad_record,
                       fmt::format("data_selector `{}`: record {} is a JSON {}, not an object",
                                   text, index, type_name(e)),
                       {}};
        return out;
      }
      out.records.push_back(&e);
      ++index;
    }
  } else if (data->IsObject()) {
    if (const auto* inner = wrapped_collection(*data)) {
      const auto suggestion =
          keys.empty() ? std::string(key_of(*inner)) : fmt::format("{}.{}", text, key_of(*inner));
      out.error = selector_error(
          fmt::format("data_selector `{}` landed on a wrapper object with keys {}; use `{}`", text,
                      key_list(*data), suggestion));
      return out;
    }
    out.records.push_back(data);
    out.singleton = true;
  } else {
    out.error = selector_error(fmt::format("data_selector `{}` landed on a JSON {}, not on records",
                                           text, type_name(*data)));
  }
  return out;
}

}  // namespace

double verbatim_double_value(const rapidjson::Value& v) {
  const auto text = marked_number_text(v);
  double d = 0;
  std::from_chars(text.data(), text.data() + text.size(), d);
  return d;
}

page_spec::page_spec(std::string_view data_selector, std::string_view total_path,
                     std::string_view next_path, std::string_view errors_key)
    : data_selector_(data_selector.empty() ? "$" : data_selector),
      data_(split_path(data_selector_, "data_selector")),
      errors_key_(errors_key) {
  if (!total_path.empty()) total_ = split_path(total_path, "total_path");
  if (!next_path.empty()) next_ = split_path(next_path, "next_path");
}

page_spec::page_spec(const std::vector<std::string>& data_selectors, std::string_view total_path,
                     std::string_view next_path, std::string_view errors_key)
    : page_spec(data_selectors.size() == 1 ? std::string_view(data_selectors.front())
                                           : std::string_view("$"),
                total_path, next_path, errors_key) {
  if (data_selectors.empty()) throw std::invalid_argument("data_selector has no selector");
  if (data_selectors.size() == 1) return;
  data_.clear();
  data_selector_ = "[";
  for (const auto& selector : data_selectors) {
    const auto& text = alternative_texts_.emplace_back(selector.empty() ? "$" : selector);
    alternatives_.push_back(split_path(text, "data_selector"));
    if (data_selector_.size() > 1) data_selector_ += ", ";
    data_selector_ += text;
  }
  data_selector_ += ']';
}

std::variant<page, page_error> page::read(std::string body, const page_spec& spec) {
  page out;
  out.doc_ = std::make_unique<rapidjson::Document>();

  out.body_ = std::make_unique<std::string>(std::move(body));
  auto& text = *out.body_;
  const bool marked = mark_lone_high_surrogates(text);
  body_stream stream{text.data(), text.data(), text.data() + text.size()};
  document_builder builder(*out.doc_, stream);
  rapidjson::ParseResult parsed;
  auto generate = [&](rapidjson::Document&) {
    // Not kParseFullPrecisionFlag: Double() computes every double itself.
    constexpr unsigned flags = rapidjson::kParseInsituFlag | rapidjson::kParseValidateEncodingFlag;
    // Two readers rather than a flag in the stream: RapidJSON copies the
    // stream into each string's loop, and one more member there cost the
    // parse 70 %.
    if (marked) {
      rapidjson::GenericReader<lone_surrogate_utf8, lone_surrogate_utf8> reader;
      parsed = reader.Parse<flags>(stream, builder);
    } else {
      rapidjson::Reader reader;
      parsed = reader.Parse<flags>(stream, builder);
    }
    return !parsed.IsError();
  };
  out.doc_->Populate(generate);
  if (parsed.IsError()) {
    const auto what = builder.too_deep()
                          ? fmt::format("nesting deeper than {} levels", max_depth)
                          : fmt::format("{} (the body has {} bytes)",
                                        rapidjson::GetParseError_En(parsed.Code()), text.size());
    return page_error{page_error::kind::malformed,
                      fmt::format("malformed JSON at byte {}: {}", parsed.Offset(), what),
                      {}};
  }
  if (stream.Tell() != text.size()) {
    return page_error{
        page_error::kind::malformed,
        fmt::format("malformed JSON at byte {}: NUL byte after the document ({} bytes)",
                    stream.Tell(), text.size()),
        {}};
  }

  const rapidjson::Value& root = *out.doc_;
  const bool needs_object = spec.alternatives_.empty()
                                ? !spec.data_.empty()
                                : std::none_of(spec.alternatives_.begin(), spec.alternatives_.end(),
                                               [](const auto& keys) { return keys.empty(); });
  if (!root.IsObject() && needs_object) {
    return page_error{page_error::kind::not_object,
                      fmt::format("the body is a JSON {}, not an object (data_selector `{}`)",
                                  type_name(root), spec.data_selector_),
                      {}};
  }
  if (root.IsObject() && !spec.errors_key_.empty()) {
    if (auto err = check_errors(root, spec.errors_key_)) return std::move(*err);
  }

  // The selector that chose the records, for total_path below; null when
  // none did (alternatives that all found nothing).
  const std::vector<std::string>* chosen = nullptr;
  if (spec.alternatives_.empty()) {
    auto s = select(root, spec.data_, spec.data_selector_);
    if (s.error) return std::move(*s.error);
    out.records_ = std::move(s.records);
    out.singleton_ = s.singleton;
  } else {
    std::vector<page_error> mismatches;
    for (size_t a = 0; a < spec.alternatives_.size() && chosen == nullptr; ++a) {
      auto s = select(root, spec.alternatives_[a], spec.alternative_texts_[a]);
      if (s.error) {
        mismatches.push_back(std::move(*s.error));
      } else if (s.reached) {
        out.records_ = std::move(s.records);
        out.singleton_ = s.singleton;
        chosen = &spec.alternatives_[a];
      }
    }
    if (chosen == nullptr && !mismatches.empty()) {
      std::string message =
          fmt::format("no data_selector of {} reached records:", spec.data_selector_);
      for (size_t i = 0; i < mismatches.size(); ++i) {
        message += fmt::format("{} {}", i == 0 ? "" : ";", mismatches[i].message);
      }
      return page_error{mismatches.front().what, std::move(message), {}};
    }
  }

  // Alternatives: a total_path inside the records the chosen selector
  // reached is not this shape's total (`_data.totalCount` beside the
  // wrapped shape's records runs into the plain shape's array, or into a
  // singleton's fields): that shape has none.
  const bool inside_records = chosen != nullptr && spec.total_.size() > chosen->size() &&
                              std::equal(chosen->begin(), chosen->end(), spec.total_.begin());
  if (!spec.total_.empty() && !inside_records) {
    bool blocked = false;
    const auto* total = find_path(root, spec.total_, &blocked);
    if (blocked) {
      return page_error{page_error::kind::bad_total,
                        fmt::format("total_path `{}` runs through a value that is not an object",
                                    joined(spec.total_, spec.total_.size())),
                        {}};
    }
    if (total != nullptr && !total->IsNull()) {
      out.total_ = parse_count(*total);
      if (!out.total_) {
        return page_error{page_error::kind::bad_total,
                          fmt::format("total_path `{}` holds {} (a JSON {}), not a count",
                                      joined(spec.total_, spec.total_.size()), scalar_text(*total),
                                      type_name(*total)),
                          {}};
      }
    }
  }

  if (!spec.next_.empty()) {
    bool blocked = false;
    const auto* next = find_path(root, spec.next_, &blocked);
    if (blocked || (next != nullptr && (next->IsObject() || next->IsArray() || next->IsBool()))) {
      return page_error{page_error::kind::bad_next,
                        fmt::format("next_path `{}` does not hold a string or a number",
                                    joined(spec.next_, spec.next_.size())),
                        {}};
    }
    if (next != nullptr && !next->IsNull()) {
      auto text = scalar_text(*next);
      if (!text.empty()) out.next_ = std::move(text);
      out.next_is_number_ = next->IsNumber() || is_marked_number(*next);
    }
  }

  return out;
}

void page::add_fields(const rapidjson::Value& fields) {
  auto& alloc = doc_->GetAllocator();
  for (const rapidjson::Value* r : records_) {
    // The records are the document's own values, which the page owns.
    auto& record = const_cast<rapidjson::Value&>(*r);
    for (auto m = fields.MemberBegin(); m != fields.MemberEnd(); ++m) {
      rapidjson::Value value(m->value, alloc);
      if (auto at = record.FindMember(m->name); at != record.MemberEnd()) {
        at->value = std::move(value);
      } else {
        rapidjson::Value name(m->name, alloc);
        record.AddMember(name, value, alloc);
      }
    }
  }
}

}  // namespace restsync

// JSON as text: records are kept serialized, so edits work on raw member text
// and numbers keep every digit (values beyond int64 survive a round trip).
#pragma once

#include <rapidjson/writer.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emulator {

// RapidJSON output stream appending to a std::string.
class string_sink {
 public:
  using Ch = char;
  explicit string_sink(std::string& out) : out_(&out) {}
  void Put(char c) { out_->push_back(c); }
  void Flush() {}

 private:
  std::string* out_;
};

using json_writer = rapidjson::Writer<string_sink>;

// Re-serializes valid JSON without whitespace, numbers verbatim; nullopt if invalid.
std::optional<std::string> compact(std::string_view json);

struct member {
  std::string key;             // decoded
  std::string_view raw_value;  // as written
};

// Members of a JSON object, or elements of an array; the text must be valid JSON
// (compact() output or generated). nullopt if the value is not of that kind.
std::optional<std::vector<member>> split_object(std::string_view json);
std::optional<std::vector<std::string_view>> split_array(std::string_view json);

std::optional<std::string> decode_string(std::string_view raw);
std::string quote(std::string_view text);

enum class json_kind { null, boolean, number, string, array, object, invalid };
json_kind kind_of(std::string_view raw);
// Integer literal (no fraction or exponent), possibly negative.
bool is_integer_literal(std::string_view raw);

// Rebuilds an object from members, in order.
std::string join_object(const std::vector<std::pair<std::string, std::string>>& members);

}  // namespace emulator

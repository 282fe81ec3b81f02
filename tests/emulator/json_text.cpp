#include "json_text.hpp"

#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace emulator {
namespace {

// RapidJSON 1.1's Writer::RawNumber quotes the number; forward it as a raw
// value so that big integers keep their digits.
class compacting_handler {
 public:
  explicit compacting_handler(json_writer& w) : w_(w) {}
  bool Null() { return w_.Null(); }
  bool Bool(bool b) { return w_.Bool(b); }
  bool Int(int i) { return w_.Int(i); }
  bool Uint(unsigned u) { return w_.Uint(u); }
  bool Int64(std::int64_t i) { return w_.Int64(i); }
  bool Uint64(std::uint64_t u) { return w_.Uint64(u); }
  bool Double(double d) { return w_.Double(d); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    return w_.RawValue(s, n, rapidjson::kNumberType);
  }
  bool String(const char* s, rapidjson::SizeType n, bool) { return w_.String(s, n); }
  bool StartObject() { return w_.StartObject(); }
  bool Key(const char* s, rapidjson::SizeType n, bool) { return w_.Key(s, n); }
  bool EndObject(rapidjson::SizeType n) { return w_.EndObject(n); }
  bool StartArray() { return w_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) { return w_.EndArray(n); }

 private:
  json_writer& w_;
};

void skip_ws(std::string_view s, std::size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
}

// Index just past the value starting at i (which must be valid JSON).
std::size_t skip_value(std::string_view s, std::size_t i) {
  if (i >= s.size()) return i;
  if (s[i] == '"') {
    for (++i; i < s.size(); ++i) {
      if (s[i] == '\\') {
        ++i;
      } else if (s[i] == '"') {
        return i + 1;
      }
    }
    return s.size();
  }
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (c == '"') {
        i = skip_value(s, i) - 1;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return s.size();
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\n' &&
         s[i] != '\r' && s[i] != '\t')
    ++i;
  return i;
}

}  // namespace

std::optional<std::string> compact(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  string_sink sink(out);
  json_writer writer(sink);
  compacting_handler handler(writer);
  rapidjson::Reader reader;
  rapidjson::MemoryStream in(json.data(), json.size());
  constexpr unsigned flags =
      rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag;
  if (!reader.Parse<flags>(in, handler)) return std::nullopt;
  return out;
}

std::optional<std::vector<member>> split_object(std::string_view s) {
  std::size_t i = 0;
  skip_ws(s, i);
  if (i >= s.size() || s[i] != '{') return std::nullopt;
  ++i;
  std::vector<member> members;
  skip_ws(s, i);
  if (i < s.size() && s[i] == '}') return members;
  while (i < s.size()) {
    skip_ws(s, i);
    auto key_end = skip_value(s, i);
    auto key = decode_string(s.substr(i, key_end - i));
    if (!key) return std::nullopt;
    i = key_end;
    skip_ws(s, i);
    if (i >= s.size() || s[i] != ':') return std::nullopt;
    ++i;
    skip_ws(s, i);
    auto value_end = skip_value(s, i);
    members.push_back({std::move(*key), s.substr(i, value_end - i)});
    i = value_end;
    skip_ws(s, i);
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}') return members;
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::vector<std::string_view>> split_array(std::string_view s) {
  std::size_t i = 0;
  skip_ws(s, i);
  if (i >= s.size() || s[i] != '[') return std::nullopt;
  ++i;
  std::vector<std::string_view> items;
  skip_ws(s, i);
  if (i < s.size() && s[i] == ']') return items;
  while (i < s.size()) {
    skip_ws(s, i);
    auto end = skip_value(s, i);
    items.push_back(s.substr(i, end - i));
    i = end;
    skip_ws(s, i);
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == ']') return items;
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> decode_string(std::string_view raw) {
  if (raw.size() < 2 || raw.front() != '"') return std::nullopt;
  if (raw.find('\\') == std::string_view::npos) return std::string(raw.substr(1, raw.size() - 2));
  rapidjson::Document d;
  d.Parse(raw.data(), raw.size());
  if (d.HasParseError() || !d.IsString()) return std::nullopt;
  return std::string(d.GetString(), d.GetStringLength());
}

std::string quote(std::string_view text) {
  std::string out;
  string_sink sink(out);
  json_writer writer(sink);
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return out;
}

json_kind kind_of(std::string_view raw) {
  if (raw.empty()) return json_kind::invalid;
  switch (raw.front()) {
    case 'n':
      return json_kind::null;
    case 't':
    case 'f':
      return json_kind::boolean;
    case '"':
      return json_kind::string;
    case '[':
      return json_kind::array;
    case '{':
      return json_kind::object;
    default:
      break;
  }
  if (raw.front() == '-' || (raw.front() >= '0' && raw.front() <= '9')) return json_kind::number;
  return json_kind::invalid;
}

bool is_integer_literal(std::string_view raw) {
  if (!raw.empty() && raw.front() == '-') raw.remove_prefix(1);
  return !raw.empty() && raw.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string join_object(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out = "{";
  for (auto& [key, value] : members) {
    if (out.size() > 1) out += ',';
    out += quote(key);
    out += ':';
    out += value;
  }
  out += '}';
  return out;
}

}  // namespace emulator

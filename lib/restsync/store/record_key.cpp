#include "restsync/store/record_key.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace restsync::db {

void key_builder::separate() {
  if (text_.size() > 1) text_.push_back(',');
}

void key_builder::add_integer(std::string_view digits) {
  separate();
  text_ += digits;
}

void key_builder::add_string(std::string_view s) {
  separate();
  // RapidJSON's Writer escapes: quote, backslash, and control characters,
  // with \b \t \n \f \r for their own and \u00XX for the others.
  static constexpr char hex[] = "0123456789ABCDEF";
  text_.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != '"' && c != '\\') {
      text_.push_back(ch);
      continue;
    }
    text_.push_back('\\');
    switch (c) {
      case '"':
        text_.push_back('"');
        break;
      case '\\':
        text_.push_back('\\');
        break;
      case '\b':
        text_.push_back('b');
        break;
      case '\t':
        text_.push_back('t');
        break;
      case '\n':
        text_.push_back('n');
        break;
      case '\f':
        text_.push_back('f');
        break;
      case '\r':
        text_.push_back('r');
        break;
      default:
        text_ += "u00";
        text_.push_back(hex[c >> 4]);
        text_.push_back(hex[c & 0xF]);
    }
  }
  text_.push_back('"');
}

void key_builder::add_json(const rapidjson::Value& v) {
  separate();
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  text_.append(buf.GetString(), buf.GetSize());
}

void key_builder::add_null() {
  separate();
  text_ += "null";
}

void key_builder::add_column(pg_type type, std::string_view text) {
  if (type == pg_type::bigint)
    add_integer(text);
  else
    add_string(text);
}

std::string_view key_builder::finish() {
  text_.push_back(']');
  return text_;
}

namespace {

// Adds v as a bigint or text key column prints it; false when it would not
// print back unchanged.
bool add_comparable(key_builder& key, const rapidjson::Value& v) {
  if (v.IsInt64()) {
    key.add_integer(std::to_string(v.GetInt64()));
    return true;
  }
  if (v.IsString() && !is_marked_number(v)) {
    std::string_view s(v.GetString(), v.GetStringLength());
    if (s.find('\0') != std::string_view::npos) return false;
    key.add_string(s);
    return true;
  }
  return false;
}

const rapidjson::Value* field_of(const rapidjson::Value& record, const std::string& f) {
  auto m = record.FindMember(rapidjson::StringRef(f.data(), f.size()));
  return m == record.MemberEnd() ? nullptr : &m->value;
}

}  // namespace

std::string record_key(const rapidjson::Value& record, const std::vector<std::string>& fields) {
  key_builder key;
  for (const auto& f : fields) {
    const auto* v = field_of(record, f);
    if (v == nullptr)
      key.add_null();
    else if (!add_comparable(key, *v))
      key.add_json(*v);
  }
  return std::string(key.finish());
}

std::optional<std::string> comparable_key(const rapidjson::Value& record,
                                          const std::vector<std::string>& fields) {
  key_builder key;
  for (const auto& f : fields) {
    const auto* v = field_of(record, f);
    if (v == nullptr || !add_comparable(key, *v)) return std::nullopt;
  }
  return std::string(key.finish());
}

}  // namespace restsync::db

#include "restsync/store/record_key.hpp"

#include <rapidjson/writer.h>

namespace restsync::db {

void key_builder::separate() {
  if (text_.size() > 1) text_.push_back(',');
}

void key_builder::add_integer(std::string_view digits) {
  separate();
  text_ += digits;
}

namespace {

// RapidJSON's output stream over the key's text: the Writer escapes strings
// and prints values straight into it, with no buffer of its own.
struct text_out {
  using Ch = char;
  std::string& text;
  void Put(char c) { text.push_back(c); }
  void Flush() {}
};

}  // namespace

void key_builder::add_string(std::string_view s) {
  separate();
  text_out out{text_};
  rapidjson::Writer<text_out> w(out);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void key_builder::add_json(const rapidjson::Value& v) {
  separate();
  text_out out{text_};
  rapidjson::Writer<text_out> w(out);
  v.Accept(w);
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
                                          const std::vector<std::string>& fields,
                                          const std::vector<pg_type>& columns) {
  key_builder key;
  for (size_t i = 0; i < fields.size(); ++i) {
    const auto* v = field_of(record, fields[i]);
    if (v != nullptr && v->IsInt64() && i < columns.size() && columns[i] == pg_type::text) {
      key.add_string(std::to_string(v->GetInt64()));
      continue;
    }
    if (v == nullptr || !add_comparable(key, *v)) return std::nullopt;
  }
  return std::string(key.finish());
}

}  // namespace restsync::db

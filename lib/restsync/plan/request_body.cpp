#include "restsync/plan/request_body.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <stdexcept>
#include <variant>

#include "restsync/config/placeholder.hpp"

namespace restsync {

namespace {

using rapidjson::Document;
using rapidjson::Value;

constexpr unsigned parse_flags = rapidjson::kParseFullPrecisionFlag;

Document parse(std::string_view text) {
  Document d;
  d.Parse<parse_flags>(text.data(), text.size());
  if (d.HasParseError()) throw std::invalid_argument("the request body is not JSON");
  return d;
}

std::string serialize(const Value& v) {
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  v.Accept(w);
  return {out.GetString(), out.GetSize()};
}

// A body value as a JSON value of doc.
Value to_json(const body_value& v, Document::AllocatorType& a) {
  if (v.number) {
    Document n;
    n.Parse<parse_flags>(v.text.data(), v.text.size());
    if (!n.HasParseError() && n.IsNumber()) return Value(n, a);
  }
  return Value(v.text.data(), static_cast<rapidjson::SizeType>(v.text.size()), a);
}

// What a template string becomes: a value, or nothing (a placeholder without one).
std::optional<Value> fill_string(std::string_view text, const placeholder_lookup& values,
                                 Document::AllocatorType& a) {
  auto parsed = parse_template(text);
  if (std::holds_alternative<std::string>(parsed))  // the reader refuses these
    return Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), a);
  const auto& pieces = std::get<std::vector<template_piece>>(parsed);
  if (pieces.size() == 1 && pieces.front().placeholder) {
    auto v = values(pieces.front().text);
    if (!v) return std::nullopt;
    return to_json(*v, a);
  }
  std::string out;
  for (const auto& p : pieces) {
    if (!p.placeholder) {
      out += p.text;
      continue;
    }
    auto v = values(p.text);
    if (!v) return std::nullopt;
    out += v->text;
  }
  return Value(out.data(), static_cast<rapidjson::SizeType>(out.size()), a);
}

// v with its strings filled; false when v itself is to be left out.
bool fill(Value& v, const placeholder_lookup& values, Document::AllocatorType& a) {
  if (v.IsString()) {
    auto filled = fill_string({v.GetString(), v.GetStringLength()}, values, a);
    if (!filled) return false;
    v = std::move(*filled);
  } else if (v.IsObject()) {
    for (auto m = v.MemberBegin(); m != v.MemberEnd();) {
      if (fill(m->value, values, a))
        ++m;
      else
        m = v.EraseMember(m);
    }
  } else if (v.IsArray()) {
    for (auto i = v.Begin(); i != v.End();) {
      if (fill(*i, values, a))
        ++i;
      else
        i = v.Erase(i);
    }
  }
  return true;
}

}  // namespace

body_value as_body_value(std::string text) {
  const bool number = is_json_number(text);
  return {std::move(text), number};
}

std::string fill_body(std::string_view template_json, const placeholder_lookup& values) {
  Document d = parse(template_json);
  fill(d, values, d.GetAllocator());
  return serialize(d);
}

std::string write_fields(std::string_view body, const std::vector<body_field>& fields) {
  Document d;
  if (body.empty())
    d.SetObject();
  else
    d = parse(body);
  auto& a = d.GetAllocator();
  for (const auto& f : fields) {
    Value* at = &d;
    for (std::size_t i = 0; i < f.path.size(); ++i) {
      if (!at->IsObject())
        throw std::invalid_argument("the request body holds a value that is not an object at `" +
                                    to_string(json_path(f.path.begin(), f.path.begin() + i)) + "`");
      const auto& key = f.path[i];
      auto m = at->FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
      const bool last = i + 1 == f.path.size();
      if (m == at->MemberEnd()) {
        Value name(key.data(), static_cast<rapidjson::SizeType>(key.size()), a);
        Value fresh(last ? rapidjson::kNullType : rapidjson::kObjectType);
        at->AddMember(name, fresh, a);
        at = &(at->MemberEnd() - 1)->value;
      } else {
        at = &m->value;
      }
      if (last) *at = to_json(f.value, a);
    }
  }
  return serialize(d);
}

}  // namespace restsync

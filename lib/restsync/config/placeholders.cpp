#include "restsync/config/placeholders.hpp"

#include <fmt/format.h>

namespace restsync {

namespace {

// Walks text, calling literal(piece) and field(name) in order; the error
// when text is not a template.
std::optional<std::string> walk(std::string_view text,
                                const std::function<void(std::string_view)>& literal,
                                const std::function<void(std::string_view)>& field) {
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal("}");
        i += 2;
        continue;
      }
      return fmt::format("a `}}` at character {} closes no `{{`; write `}}}}` for a literal brace",
                         i + 1);
    }
    if (c != '{') {
      auto next = text.find_first_of("{}", i);
      if (next == std::string_view::npos) next = text.size();
      literal(text.substr(i, next - i));
      i = next;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal("{");
      i += 2;
      continue;
    }
    auto close = text.find('}', i + 1);
    if (close == std::string_view::npos)
      return fmt::format("the `{{` at character {} is not closed; write `{{{{` for a literal brace",
                         i + 1);
    auto name = text.substr(i + 1, close - i - 1);
    if (name.empty()) return std::string("an empty `{}` names nothing");
    if (name.find_first_of("{!:") != std::string_view::npos)
      return fmt::format("`{{{}}}` is not a plain placeholder (no nested braces, `!` or `:`)",
                         name);
    field(name);
    i = close + 1;
  }
  return std::nullopt;
}

}  // namespace

std::variant<std::vector<std::string>, std::string> placeholder_names(std::string_view text) {
  std::vector<std::string> names;
  auto error = walk(
      text, [](std::string_view) {}, [&](std::string_view n) { names.emplace_back(n); });
  if (error) return *error;
  return names;
}

std::optional<std::string> fill_placeholders(
    std::string_view text,
    const std::function<std::optional<std::string>(std::string_view name)>& value) {
  std::string out;
  bool missing = false;
  auto error = walk(
      text, [&](std::string_view piece) { out += piece; },
      [&](std::string_view name) {
        if (missing) return;
        if (auto v = value(name)) {
          out += *v;
        } else {
          missing = true;
        }
      });
  if (error || missing) return std::nullopt;
  return out;
}

std::string path_segment(std::string_view value) {
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace restsync

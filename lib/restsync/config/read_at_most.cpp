#include "restsync/config/read_at_most.hpp"

namespace restsync {

std::optional<std::string> read_at_most(std::istream& in, std::size_t limit) {
  std::string text;
  char piece[65536];
  while (in.read(piece, sizeof piece) || in.gcount() > 0) {
    text.append(piece, static_cast<std::size_t>(in.gcount()));
    if (text.size() > limit) return std::nullopt;
  }
  return text;
}

}  // namespace restsync

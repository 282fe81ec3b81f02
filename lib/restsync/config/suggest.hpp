// "Did you mean …?" for misspelt configuration keys and enum values.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace restsync {

// Edit distance counting insertions, deletions, substitutions and swaps of
// adjacent characters, ignoring letter case.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to word when it is close enough to be a plausible
// typo (a longer word may be further off), else nullopt.
std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates);

}  // namespace restsync

// The secret values of a loaded configuration, kept so that anything printed
// about it (the plan, error messages) can be scrubbed of them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace restsync {

// Secrets shorter than this are masked only where a whole text is the
// secret: inside other text, one or two characters would match ordinary
// words (`max_age` with a secret `a` would read `m***x_***ge`).
inline constexpr std::size_t short_secret_length = 6;

class secret_set {
 public:
  // Empty values are ignored: masking them would be meaningless.
  void add(std::string value);
  // Every secret of other too: after a reload, runs of the old configuration
  // may still be logging while the new one's secrets are in force.
  void add_all(const secret_set& other);
  bool empty() const { return values_.empty(); }
  // True when text contains any secret.
  bool contains_secret(std::string_view text) const;
  // text with every occurrence of every secret replaced by `***`; a secret
  // shorter than short_secret_length only where it is the whole text.
  std::string mask(std::string_view text) const;
  // How many secrets are shorter than length (and nothing about them).
  std::size_t count_shorter_than(std::size_t length) const;

 private:
  std::vector<std::string>
      values_;  // longest first, so that a secret containing another is masked whole
};

}  // namespace restsync

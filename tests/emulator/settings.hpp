// Emulator settings: the command line, and the part of it that /__config can
// change while running (quirks, faults, rate limit, latency, Retry-After).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "resources.hpp"

namespace emulator {

// A bad argument or setting; the message names it.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class quirk : unsigned {
  page_cap = 1u << 0,
  wrapped = 1u << 1,
  empty_no_data = 1u << 2,
  singletons = 1u << 3,
  feed_order = 1u << 4,
  errors_in_200 = 1u << 5,
  late_fields = 1u << 6,
  // Hostile behaviours, never part of `all`: no vendor API does them on
  // purpose, and a client cannot sync them (it must fail clearly instead).
  ignore_offset = 1u << 7,  // every list page is the page at offset 0
  echo_key = 1u << 8,       // error bodies repeat the key the request sent
  // Not in `all` either, so that the request counts of the others hold:
  // labels serve their first record once more, at position 52.
  duplicate = 1u << 9,
};

struct quirk_set {
  unsigned bits = 0;
  bool has(quirk q) const { return (bits & static_cast<unsigned>(q)) != 0; }
  void set(quirk q) { bits |= static_cast<unsigned>(q); }
};

quirk_set default_quirks();
// "all", "none", "" or a comma list of quirk names.
quirk_set parse_quirks(std::string_view spec);
std::string to_string(quirk_set quirks);

// In the order a fault roll walks them, which keeps a roll's outcome
// independent of how the spec was written.
enum class fault_kind { server_error, reset, truncate, malformed, drip, too_many, none };
inline constexpr std::size_t fault_kind_count = 6;
std::string_view fault_name(fault_kind kind);

struct fault_spec {
  std::array<double, fault_kind_count> fraction{};
};
// "none", "" or a comma list of name=fraction; the fractions add up to at most 1.
fault_spec parse_faults(std::string_view spec);
std::string to_string(const fault_spec& faults);
// The fault for the n-th API request: a function of seed and n only.
fault_kind choose_fault(const fault_spec& faults, std::uint64_t seed, std::uint64_t n);

enum class retry_after_mode { seconds, date, zero, none, mixed };
retry_after_mode parse_retry_after(std::string_view spec);
std::string_view to_string(retry_after_mode mode);

// What /__config may change at run time.
struct runtime_settings {
  quirk_set quirks = default_quirks();
  fault_spec faults;
  double rate_limit = 0;  // requests per second; 0 means unlimited
  std::chrono::milliseconds latency{0};
  retry_after_mode retry_after = retry_after_mode::seconds;
  std::size_t page_cap = 25;
  // Bytes of padding (`"pad":"xxx…"`) added to every record of a list page:
  // oversized pages from a small data set.
  std::size_t pad_bytes = 0;
  // OAuth2 (with --oauth-client-id): the lifetime of a token issued from now
  // on, answered as expires_in and enforced; and how many API requests one
  // token may authorise before it is refused as expired (0: no limit).
  std::uint64_t token_expires_in = 3600;
  std::uint64_t token_max_uses = 0;
};

double parse_rate_limit(std::string_view text, std::string_view what);
std::chrono::milliseconds parse_latency(std::string_view text, std::string_view what);
std::size_t parse_page_cap(std::string_view text, std::string_view what);
std::size_t parse_pad_bytes(std::string_view text, std::string_view what);

struct options {
  std::string host;
  std::uint16_t port = 0;
  std::string api_key;
  std::string auth_header = "api_key";
  // When set, the key is read from this query parameter instead of the header.
  std::string auth_query;
  std::string tls_cert, tls_key;
  // OAuth2 client credentials: when client_id is set, POST /oauth/token
  // issues tokens for these credentials and API requests need
  // `Authorization: Bearer <token>` instead of the key. scope, when set,
  // must come with the token request.
  std::string oauth_client_id, oauth_client_secret, oauth_scope;
  std::uint64_t seed = 1;
  std::array<std::size_t, resource_count> records{};
  bool verbose = false;
  bool help = false;
  runtime_settings runtime;
};

// Throws usage_error naming the offending argument.
options parse_command_line(const std::vector<std::string>& args);
std::string_view usage();

}  // namespace emulator

// The daemon-facing sections: `destination`, `daemon`, `log`, `metrics`.
#include <fmt/format.h>

#include <utility>

#include "restsync/config/conninfo.hpp"
#include "restsync/config/reader.hpp"

namespace restsync::config_reader {

namespace {

constexpr std::string_view destination_keys[] = {"connection", "schema", "connections"};
constexpr std::string_view daemon_keys[] = {"shutdown_timeout", "lease", "instance"};
constexpr std::string_view log_keys[] = {"level"};
constexpr named<log_level> log_levels[] = {{"debug", log_level::debug},
                                           {"info", log_level::info},
                                           {"warning", log_level::warning},
                                           {"error", log_level::error}};
constexpr std::string_view metrics_keys[] = {"listen"};

}  // namespace

destination_config loader::read_destination(const config_node& n) {
  destination_config d;
  if (!expect_map(n, "a map with `connection`, `schema` and `connections`")) return d;
  check_keys(n, destination_keys);
  if (const auto* v = optional(n, "connection")) {
    if (auto s = string_value(*v)) {
      for (auto& p : conninfo_passwords(*s)) secrets_.add(std::move(p));
      d.connection = *s;
    }
  }
  if (const auto* v = optional(n, "schema")) {
    if (auto s = non_empty_string(*v, "a PostgreSQL schema name such as `analytics`")) {
      if (s->size() > 63) {
        fail(*v, "a PostgreSQL schema name is at most 63 bytes long");
      } else if (s->find('\0') != std::string::npos) {
        fail(*v, "a PostgreSQL schema name cannot contain a NUL character");
      } else {
        d.schema = *s;
      }
    }
  }
  if (const auto* v = optional(n, "connections")) {
    if (auto x = integer_value(*v, 1, 16)) d.connections = static_cast<int>(*x);
  }
  return d;
}

daemon_config loader::read_daemon(const config_node& n) {
  daemon_config d;
  if (!expect_map(n, "a map with `shutdown_timeout`, `lease` and `instance`")) return d;
  check_keys(n, daemon_keys);
  if (const auto* v = optional(n, "shutdown_timeout")) {
    if (auto t = duration_value(*v, false)) d.shutdown_timeout = *t;
  }
  if (const auto* v = optional(n, "lease")) {
    if (auto t = duration_value(*v, false)) {
      if (*t < milliseconds(1000))
        fail(*v,
             "a lease under 1s would be renewed faster than a page commits; write at least "
             "`1s` (the default is `1m`)");
      else
        d.lease = *t;
    }
  }
  if (const auto* v = optional(n, "instance")) {
    if (auto s = non_empty_string(*v, "this daemon's name, such as `sync-a`")) d.instance = *s;
  }
  return d;
}

log_config loader::read_log(const config_node& n) {
  log_config l;
  if (!expect_map(n, "a map with `level`")) return l;
  check_keys(n, log_keys);
  if (const auto* v = optional(n, "level")) {
    if (auto c = choice(*v, log_levels)) l.level = *c;
  }
  return l;
}

metrics_config loader::read_metrics(const config_node& n) {
  metrics_config m;
  if (!expect_map(n, "a map with `listen`")) return m;
  check_keys(n, metrics_keys);
  if (const auto* v = optional(n, "listen")) {
    if (auto s = string_value(*v)) {
      if (auto a = parse_listen_address(*s)) {
        m.listen = *a;
      } else {
        fail(*v, fmt::format("{} is not a listen address; expected a port such as `9187` "
                             "(loopback only), or `127.0.0.1:9187`, `[::1]:9187`, "
                             "`0.0.0.0:9187` to listen beyond this host",
                             shown(*v)));
      }
    }
  }
  return m;
}

}  // namespace restsync::config_reader

// The store's settings from a configuration: one place for `sync` and `run`.
#pragma once

#include "restsync/config/config.hpp"
#include "restsync/store/store.hpp"

namespace restsyncd {

inline restsync::db::store_settings store_settings_for(const restsync::config& cfg) {
  restsync::db::store_settings s;
  s.connection = cfg.destination.connection;
  s.schema = cfg.destination.schema;
  s.connections = static_cast<std::size_t>(cfg.destination.connections);
  return s;
}

}  // namespace restsyncd

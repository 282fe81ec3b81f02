// The warnings about a configuration as it takes effect: at the start of
// `run` and `sync`, and after each reload. One place for both commands.
#pragma once

#include "restsync/config/config.hpp"
#include "restsync/observe/log.hpp"

namespace restsyncd {

// replaced: the configuration a reload replaces. An unverified TLS client
// is reported when it begins, not again while a reload keeps it so.
inline void warn_about_configuration(restsync::logger& log, const restsync::config& cfg,
                                     const restsync::config* replaced = nullptr) {
  restsync::warn_about_short_secrets(log, cfg.secrets);
  if (!cfg.client.tls.verify && (!replaced || replaced->client.tls.verify))
    log.warn("tls_not_verified",
             {{"base_url", cfg.client.base_url},
              {"detail",
               "client.tls.verify is false: any certificate is accepted, so whoever sits between "
               "restsyncd and the API can read the key and change the data. For tests only"}});
}

}  // namespace restsyncd

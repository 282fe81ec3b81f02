// `restsyncd status`: what PostgreSQL knows of every resource.
#pragma once

#include "restsync/config/config.hpp"

namespace restsyncd {

// Prints the table (or JSON) on stdout; returns 0, 1 when a resource is older
// than its max_age, 69 when the database cannot be read.
int show_status(const restsync::config& cfg, bool json);

}  // namespace restsyncd

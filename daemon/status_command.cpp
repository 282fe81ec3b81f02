#include "status_command.hpp"

#include <algorithm>
#include <cstdio>

#include "restsync/observe/status_query.hpp"
#include "restsync/observe/status_report.hpp"

namespace restsyncd {

namespace {

constexpr int exit_ok = 0;
constexpr int exit_stale = 1;
constexpr int exit_unavailable = 69;  // sysexits.h EX_UNAVAILABLE

}  // namespace

int show_status(const restsync::config& cfg, bool json) {
  std::vector<restsync::resource_status> rows;
  try {
    rows = restsync::service::query_status(cfg);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "restsyncd: %s\n", cfg.secrets.mask(e.what()).c_str());
    return exit_unavailable;
  }
  // Rows written before errors were masked on the way in may still hold a
  // secret of today's configuration.
  for (auto& r : rows) {
    if (r.last_error) r.last_error = cfg.secrets.mask(*r.last_error);
    if (r.last_run && r.last_run->error) r.last_run->error = cfg.secrets.mask(*r.last_run->error);
  }
  const std::string& schema = cfg.destination.schema;
  auto text = json ? restsync::format_status_json(rows, schema)
                   : restsync::format_status_table(rows, schema);
  std::fputs(text.c_str(), stdout);
  return std::any_of(rows.begin(), rows.end(), restsync::is_stale) ? exit_stale : exit_ok;
}

}  // namespace restsyncd

// What the store asks of a connection thread: one struct per command, so a
// page's way from store::write to its statement can be read in the code
// (store.cpp visits them), and what each command answers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "restsync/store/types.hpp"

namespace restsync::db {

// Creates the schema and restsync's own tables; marks runs a previous
// process left 'running' as interrupted.
struct open_command {};

// Begins a run: loads the resource's table (when the thread's copy is not
// current) and inserts the run's row.
struct begin_run_command {
  std::string resource;
  run_options options;
  std::optional<table_spec> load;
};

// A page to upsert. Page writes are the only commands that share a
// transaction (group commit).
struct write_command {
  page_write page;
  // Set when the page's statement runs, which may be after the command
  // returned (pages of one table share a statement); read after the commit.
  std::shared_ptr<run_counters> result;
};

struct end_pass_command {
  std::int64_t run_id = 0;
  bool count_unseen = false;
};

struct finish_run_command {
  run_summary summary;
};

struct states_command {};

// The live rows of a parent resource (types.hpp: parent_rows).
struct parent_rows_command {
  std::string resource;
  std::vector<std::string> fields;
};

// The leases of several daemons (store/leases.hpp), by what is asked.
struct lease_command {
  enum class op { acquire, renew, release, release_all, heartbeat, reschedule } what = op::acquire;
  std::string resource;
  fence holder;
  std::int64_t lease_ms = 0;
  std::int64_t next_due_ms = 0;  // release: when the resource is due again
};

// Drops the _rs_state rows of parents not in live (parent values, JSON
// text) and, with mark, marks the rows of vanished parents (types.hpp:
// orphan_rule); answers how many rows it marked.
struct orphans_command {
  orphan_rule rule;
  std::vector<std::string> live;
  bool mark = false;
};

using command = std::variant<open_command, begin_run_command, write_command, end_pass_command,
                             finish_run_command, states_command, parent_rows_command,
                             orphans_command, lease_command>;

// What a command answers (write_command: nothing here, see its result).
using command_result =
    std::variant<std::monostate, run_start, pass_check, finish_counts, std::vector<resource_state>,
                 parent_rows, std::int64_t, lease_answer>;

inline bool batchable(const command& c) { return std::holds_alternative<write_command>(c); }

// Records in a command, for the group commit's limit.
inline std::size_t records_of(const command& c) {
  const auto* w = std::get_if<write_command>(&c);
  return w && w->page.data ? w->page.data->records().size() : 0;
}

}  // namespace restsync::db

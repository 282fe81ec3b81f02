#include "restsync/store/deletion_evidence.hpp"

#include <fmt/format.h>

#include <random>

#include "restsync/store/naming.hpp"
#include "restsync/store/record_key.hpp"

namespace restsync::db {

// Rows read from the table's cursor at a time.
inline constexpr int unseen_fetch_rows = 10000;

void deletion_evidence::forget_transaction() {
  tx_keys_.clear();
  started_.reset();
  counted_.reset();
  finished_.reset();
}

void deletion_evidence::start(std::int64_t run_id, const std::string& resource, bool track_keys,
                              std::vector<std::pair<std::string, std::string>> scope) {
  tracked_run t;
  t.resource = resource;
  t.track_keys = track_keys;
  t.scope = std::move(scope);
  std::uint64_t seed = std::random_device{}();
  seed = seed << 32 ^ std::random_device{}();
  t.keys = seen_keys(seed);
  started_.emplace(run_id, std::move(t));
}

void deletion_evidence::committed() {
  for (auto& [run_id, keys] : tx_keys_) {
    auto it = runs_.find(run_id);
    if (it != runs_.end()) it->second.keys.add(keys);
  }
  if (started_) runs_[started_->first] = std::move(started_->second);
  if (counted_) unseen_cache_[counted_->first] = counted_->second;
  if (finished_) {
    runs_.erase(*finished_);
    unseen_cache_.erase(*finished_);
  }
  forget_transaction();
}

void deletion_evidence::note(std::int64_t run_id, const table_state& st,
                             std::span<const rapidjson::Value* const> all) {
  auto it = runs_.find(run_id);
  if (it == runs_.end() || !it->second.track_keys) return;
  auto& pending = tx_keys_[run_id];
  std::vector<pg_type> types;
  for (size_t k : st.key_columns) types.push_back(st.schema.columns()[k].type);
  for (const auto* r : all) {
    auto k = comparable_key(*r, st.primary_key, types);
    if (!k) {
      // Deletions cannot be told apart for this run.
      it->second.track_keys = false;
      it->second.untracked =
          "a record's primary key is missing or neither an integer nor a "
          "string";
      return;
    }
    pending.push_back(it->second.keys.hash(*k));
  }
}

deletion_evidence::unseen_rows deletion_evidence::find_unseen(pqxx::transaction_base& tx,
                                                              const table_state& st,
                                                              tracked_run& run, bool hard,
                                                              std::string& skipped) {
  unseen_rows out;
  std::string select;
  std::vector<pg_type> types;
  for (size_t k : st.key_columns) {
    const auto& c = st.schema.columns()[k];
    if (c.type != pg_type::bigint && c.type != pg_type::text) {
      skipped = fmt::format(
          "primary key column {} is {}; deletions are detected for bigint "
          "and text keys only",
          c.name, sql_name(c.type));
      return out;
    }
    if (!select.empty()) select += ", ";
    select += quote_ident(c.name) + "::text";
    types.push_back(c.type);
  }
  run.keys.end_pass();
  // A dependent resource's run for one parent sees that parent's rows only.
  std::string where = hard ? "true" : "\"_rs_deleted_at\" IS NULL";
  for (const auto& [field, value] : run.scope) {
    int c = st.schema.main_column(field);
    if (c < 0) return out;  // no row holds a value of this parent yet
    where +=
        fmt::format(" AND to_jsonb({}) = {}::jsonb",
                    quote_ident(st.schema.columns()[static_cast<size_t>(c)].name), tx.quote(value));
  }
  tx.exec("DECLARE rs_keys NO SCROLL CURSOR FOR SELECT " + select + " FROM " +
          sql::qualified(st.ref.schema, st.ref.table) + " WHERE " + where);
  out.arrays.resize(st.key_columns.size());
  key_builder key;
  const std::string fetch = fmt::format("FETCH FORWARD {} FROM rs_keys", unseen_fetch_rows);
  for (;;) {
    auto rows = tx.exec(fetch);
    if (rows.empty()) break;
    for (const auto& row : rows) {
      key.clear();
      for (size_t i = 0; i < types.size(); ++i)
        key.add_column(types[i], std::string_view(row[static_cast<int>(i)].c_str()));
      if (run.keys.saw(key.finish())) continue;
      for (size_t i = 0; i < st.key_columns.size(); ++i)
        out.arrays[i].append(std::string_view(row[static_cast<int>(i)].c_str()));
      ++out.count;
    }
  }
  tx.exec("CLOSE rs_keys");
  return out;
}

pass_check deletion_evidence::end_pass(pqxx::transaction_base& tx, std::int64_t run_id,
                                       bool count_unseen, catalog& tables) {
  pass_check out;
  auto it = runs_.find(run_id);
  if (it == runs_.end() || !it->second.track_keys) return out;
  out.repeated = it->second.keys.end_pass();
  out.repeat_digest = it->second.keys.repeat_digest();
  if (!count_unseen) return out;
  const auto* table = tables.find(it->second.resource);
  if (table == nullptr || !table->exists || table->staging) return out;
  std::string skipped;
  auto unseen = std::make_shared<unseen_rows>(find_unseen(tx, *table, it->second, false, skipped));
  out.unseen = unseen->count;
  if (skipped.empty()) counted_.emplace(run_id, unseen);
  return out;
}

std::int64_t deletion_evidence::mark(pqxx::transaction_base& tx, const run_summary& s,
                                     const table_state& st, std::string& skipped) {
  auto track = runs_.find(s.run_id);
  if (track == runs_.end() || !track->second.track_keys) {
    skipped = track == runs_.end() || track->second.untracked.empty() ? "the run did not track keys"
                                                                      : track->second.untracked;
    return 0;
  }
  if (!st.exists) return 0;
  const bool hard = s.hard_delete;
  // hard_delete also removes rows marked earlier, which end_pass left out.
  auto cached = hard ? unseen_cache_.end() : unseen_cache_.find(s.run_id);
  auto unseen = cached != unseen_cache_.end() ? *cached->second
                                              : find_unseen(tx, st, track->second, hard, skipped);
  if (unseen.count == 0) return 0;
  auto target = sql::qualified(st.ref.schema, st.ref.table);
  std::string from = "unnest(", match, aliases;
  std::vector<pqxx::binarystring> params;
  for (size_t i = 0; i < st.key_columns.size(); ++i) {
    const auto& c = st.schema.columns()[st.key_columns[i]];
    params.emplace_back(unseen.arrays[i].finish());
    from += fmt::format("{}${}::text[]", i ? ", " : "", i + 1);
    aliases += fmt::format("{}k{}", i ? ", " : "", i);
    match += fmt::format("{}t.{} = u.k{}::{}", i ? " AND " : "", quote_ident(c.name), i,
                         sql_name(c.type));
  }
  from += ") AS u(" + aliases + ")";
  auto sql = hard ? "DELETE FROM " + target + " AS t USING " + from + " WHERE " + match
                  : "UPDATE " + target + " AS t SET \"_rs_deleted_at\" = now() FROM " + from +
                        " WHERE " + match + " AND t.\"_rs_deleted_at\" IS NULL";
  auto r = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
  return static_cast<std::int64_t>(r.affected_rows());
}

}  // namespace restsync::db

#include "restsync/store/upsert_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <unordered_map>

#include "restsync/store/connection.hpp"

namespace restsync::db {

void upsert_writer::add(pqxx::work& tx, const std::string& resource, std::int64_t run_id,
                        std::span<const rapidjson::Value* const> records, std::int64_t offset,
                        std::shared_ptr<run_counters> result) {
  if (pending_.empty() || pending_.back().resource != resource ||
      pending_.back().run_id != run_id) {
    flush(tx);
    pending_.push_back({resource, run_id, {}, {}, {}});
  }
  auto& p = pending_.back();
  p.pages.emplace_back(p.records.size(), offset);
  p.records.insert(p.records.end(), records.begin(), records.end());
  p.results.push_back(std::move(result));
}

void upsert_writer::flush(pqxx::work& tx) {
  auto groups = std::move(pending_);
  pending_.clear();
  for (auto& p : groups) {
    auto& st = tables_.for_change(p.resource);
    if (st.upsert_columns != st.schema.columns().size()) {
      st.upsert_sql = sql::upsert(st.write_ref(), st.schema.columns(), st.key_columns,
                                  st.mode != write_mode::append);
      st.upsert_name = fmt::format("rs_upsert_{}", ++statements_named_);
      st.upsert_columns = st.schema.columns().size();
    }
    auto counts = upsert(tx, st, p);
    *p.results.front() = counts;
    auto& d = deltas_[p.run_id];
    d.inserted += counts.inserted;
    d.updated += counts.updated;
    d.unchanged += counts.unchanged;
  }
}

std::string upsert_writer::where_is(const pending_upsert& p, size_t r) {
  // The page the record came from: the last one starting at or before r.
  auto page = std::prev(std::upper_bound(
      p.pages.begin(), p.pages.end(), r,
      [](size_t i, const std::pair<size_t, std::int64_t>& pg) { return i < pg.first; }));
  return fmt::format("record {} of the page at offset {}", r - page->first, page->second);
}

void upsert_writer::append_row() {
  for (size_t c = 0; c < arrays_.size(); ++c) arrays_[c].append(row_[c]);
}

run_counters upsert_writer::upsert(pqxx::work& tx, table_state& st, const pending_upsert& p) {
  const auto& records = p.records;
  const auto& columns = st.schema.columns();
  // The arrays are built straight from each record's row. A key seen twice
  // in one statement would make ON CONFLICT fail: the later record is the
  // newer one and takes the place of the first, and the arrays are built
  // again (rare: the API repeated a record within a page).
  constexpr size_t superseded = static_cast<size_t>(-1);
  std::vector<size_t> source(records.size());
  std::unordered_map<std::string, size_t> by_key;
  by_key.reserve(records.size());
  bool repeated = false;
  arrays_.resize(columns.size());
  for (auto& a : arrays_) a.clear();
  for (size_t r = 0; r < records.size(); ++r) {
    st.schema.fill_row(*records[r], row_);
    key_.clear();
    for (size_t k : st.key_columns) {
      auto v = row_[k];
      if (!v) {
        throw store_error(fmt::format("{}: {} has no value for primary key column {}", p.resource,
                                      where_is(p, r), columns[k].name));
      }
      key_.add_column(columns[k].type, *v);
    }
    for (size_t k : st.required_columns) {
      if (row_[k]) continue;
      throw store_error(fmt::format(
          "{}: {} has no value for column {}, which its hint "
          "makes `nullable: false` (the field is missing or null, or its value does not fit "
          "the hint's data_type and went to a variant column); the page was not stored. Remove "
          "`nullable: false` to load such records",
          p.resource, where_is(p, r), columns[k].name));
    }
    if (st.key_columns.empty()) {
      // No key (append or replace without primary_key): every row is new.
      source[r] = r;
      if (!repeated) append_row();
      continue;
    }
    auto [it, fresh] = by_key.try_emplace(std::string(key_.finish()), r);
    source[r] = fresh ? r : superseded;
    if (!fresh) {
      source[it->second] = r;
      repeated = true;
    }
    if (!repeated) append_row();
  }
  if (repeated) {
    for (auto& a : arrays_) a.clear();
    for (size_t r : source) {
      if (r == superseded) continue;
      st.schema.fill_row(*records[r], row_);
      append_row();
    }
  }
  std::vector<pqxx::binarystring> params;
  params.reserve(arrays_.size());
  for (auto& a : arrays_) params.emplace_back(a.finish());
  auto result = tx.exec_prepared(conn_.statement(st.upsert_name, st.upsert_sql),
                                 pqxx::prepare::make_dynamic_params(params));
  run_counters counts;
  counts.inserted = result.at(0).at(0).as<std::int64_t>();
  counts.updated = result.at(0).at(1).as<std::int64_t>();
  counts.unchanged = static_cast<std::int64_t>(records.size()) - counts.inserted - counts.updated;
  return counts;
}

}  // namespace restsync::db

// The upsert writer: the pages of a transaction, grouped so that consecutive
// pages of one run's table are written by one INSERT ... ON CONFLICT
// statement (group commit), which costs PostgreSQL far less per row than one
// statement per page.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "restsync/observe/run_counters.hpp"
#include "restsync/store/catalog.hpp"
#include "restsync/store/record_key.hpp"

namespace restsync::db {

class connection_thread;

class upsert_writer {
 public:
  // deltas: where each statement's counts are added, by run id (the
  // counters of the transaction in progress).
  upsert_writer(connection_thread& conn, catalog& tables,
                std::map<std::int64_t, run_counters>& deltas)
      : conn_(conn), tables_(tables), deltas_(deltas) {}

  // Queues a page's records (the table already fits them); the statement of
  // an earlier group of another run or table is written first. result gets
  // the counts of the statement that writes this group (the first page's).
  void add(pqxx::work& tx, const std::string& resource, std::int64_t run_id,
           std::span<const rapidjson::Value* const> records, std::int64_t offset,
           std::shared_ptr<run_counters> result);

  // Writes the pages waiting, one statement per run's table.
  void flush(pqxx::work& tx);

  // Forgets the pages waiting (their transaction rolled back).
  void clear() { pending_.clear(); }

 private:
  struct pending_upsert {
    std::string resource;
    std::int64_t run_id = 0;
    std::vector<const rapidjson::Value*> records;
    // For messages: the index in records where each page starts, and its offset.
    std::vector<std::pair<size_t, std::int64_t>> pages;
    // Where the statement's counts go: the first page's result (write()'s
    // caller only adds them up per run).
    std::vector<std::shared_ptr<run_counters>> results;
  };

  run_counters upsert(pqxx::work& tx, table_state& st, const pending_upsert& p);
  void append_row();
  // `record 3 of the page at offset 50`: where the group's record r came from.
  static std::string where_is(const pending_upsert& p, size_t r);

  connection_thread& conn_;
  catalog& tables_;
  std::map<std::int64_t, run_counters>& deltas_;
  std::vector<pending_upsert> pending_;
  // A statement's name is never reused for other SQL: when a table's
  // columns change, its upsert gets a new name, as libpqxx refuses to
  // redefine one.
  std::uint64_t statements_named_ = 0;
  // upsert()'s buffers, kept from page to page so that they stop growing.
  row_text row_;
  key_builder key_;
  std::vector<sql::binary_text_array> arrays_;
};

}  // namespace restsync::db

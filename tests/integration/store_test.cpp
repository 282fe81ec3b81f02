// The store against a real PostgreSQL, without restsyncd: the upsert's
// prepared statements (per column set, prepared again on a new connection)
// and the _rs_runs counters, updated once per run and transaction yet exact.
#include "restsync/store/store.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <pqxx/pqxx>
#include <thread>

#include "pg.hpp"
#include "restsync/paging/page.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using restsync::db::page_write;
using restsync::db::store;

namespace {

std::shared_ptr<const restsync::page> page_of(std::string records_json) {
  auto r = restsync::page::read(std::move(records_json), restsync::page_spec("$"));
  auto* p = std::get_if<restsync::page>(&r);
  REQUIRE(p != nullptr);
  return std::make_shared<const restsync::page>(std::move(*p));
}

template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> a) {
  auto f = asio::co_spawn(ioc, std::move(a), asio::use_future);
  ioc.restart();
  ioc.run();
  return f.get();
}

restsync::db::store_settings settings_for(const rs_test::scratch_database& db) {
  restsync::db::store_settings s;
  s.connection = db.conninfo();
  s.reconnect_for = 10s;
  return s;
}

// "pages/records/inserted/updated/unchanged" of the run.
std::string counters(const rs_test::scratch_database& db, std::int64_t run_id) {
  return db.scalar(
      "SELECT concat_ws('/', pages, records, inserted, updated, unchanged) FROM "
      "analytics._rs_runs WHERE id = " +
      std::to_string(run_id));
}

// A store on a scratch database, opened, with the resource `items` keyed by id.
struct items_store {
  rs_test::scratch_database db;
  asio::io_context ioc;
  store st{ioc.get_executor(), settings_for(db)};

  items_store() {
    run(ioc, st.open());
    run(ioc, st.prepare({"items", {"id"}}));
  }
  std::int64_t begin() { return run(ioc, st.begin_run("items")).run_id; }
  restsync::run_counters write(std::int64_t run_id, std::string records, std::int64_t offset) {
    return run(ioc,
               st.write(page_write{"items", run_id, page_of(std::move(records)), offset, {}, {}}));
  }
};

}  // namespace

TEST_CASE("a key twice in one page: the later record is stored, once") {
  items_store s;
  auto& db = s.db;
  auto run_id = s.begin();
  auto c = s.write(run_id, R"([{"id":1,"v":"a"},{"id":2,"v":"b"},{"id":1,"v":"c"}])", 0);
  CHECK(c.inserted == 2);
  CHECK(c.updated == 0);
  CHECK(c.unchanged == 1);
  CHECK(db.scalar("SELECT string_agg(id || v, ',' ORDER BY id) FROM analytics.items") == "1c,2b");
  CHECK(counters(db, run_id) == "1/3/2/0/1");
}

TEST_CASE("a new connection and new columns: the upsert is prepared again") {
  items_store s;
  auto& db = s.db;
  auto run_id = s.begin();
  s.write(run_id, R"([{"id":1,"v":"a"}])", 0);
  db.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
      "current_database() AND pid <> pg_backend_pid()");
  s.write(run_id, R"([{"id":2,"v":"b"}])", 1);
  s.write(run_id, R"([{"id":3,"v":"c","w":true}])", 2);
  s.write(run_id, R"([{"id":1,"v":"d","w":false}])", 3);
  CHECK(db.scalar("SELECT string_agg(concat_ws(':', id, v, w), ',' ORDER BY id) FROM "
                  "analytics.items") == "1:d:f,2:b,3:c:t");
  CHECK(counters(db, run_id) == "4/4/3/1/0");
}

TEST_CASE("a session opened while the database was read-only is replaced; the page commits once") {
  items_store s;
  auto& db = s.db;
  auto run_id = s.begin();
  s.write(run_id, R"([{"id":1,"v":"a"}])", 0);
  // As a failover does: the store's session ends, and the new one is read-only.
  db.alter("SET default_transaction_read_only = on");
  db.end_sessions();
  std::thread writable([&db] {
    std::this_thread::sleep_for(1500ms);
    db.alter("RESET default_transaction_read_only");
  });
  restsync::run_counters c;
  CHECK_NOTHROW(c = s.write(run_id, R"([{"id":2,"v":"b"},{"id":3,"v":"c"}])", 1));
  writable.join();
  CHECK(c.inserted == 2);
  CHECK(db.scalar("SELECT string_agg(id || v, ',' ORDER BY id) FROM analytics.items") ==
        "1a,2b,3c");
  CHECK(counters(db, run_id) == "2/3/3/0/0");
}

TEST_CASE("a batch with a bad page: the others commit, and every run is counted exactly once") {
  items_store s;
  auto& db = s.db;
  auto a = s.begin();
  auto b = s.begin();
  s.write(a, R"([{"id":1,"v":"a"}])", 0);

  // A lock holds the store's next transaction while the other writes queue
  // behind it, so that they share one transaction, with the bad page.
  std::promise<void> locked;
  std::thread holder([&db, &locked] {
    pqxx::connection c(db.conninfo());
    pqxx::work tx(c);
    tx.exec("LOCK TABLE analytics.items IN ACCESS EXCLUSIVE MODE");
    locked.set_value();
    std::this_thread::sleep_for(500ms);
    tx.commit();
  });
  locked.get_future().wait();
  std::vector<std::future<restsync::run_counters>> writes;
  auto write = [&](std::int64_t run_id, std::string records, std::int64_t offset) {
    writes.push_back(asio::co_spawn(
        s.ioc, s.st.write(page_write{"items", run_id, page_of(std::move(records)), offset, {}, {}}),
        asio::use_future));
  };
  write(a, R"([{"id":2,"v":"b"},{"id":3,"v":"c"}])", 1);
  write(b, R"([{"id":1,"v":"a"}])", 0);
  write(a, R"([{"id":1,"v":"z"}])", 2);
  // No primary key, and a field that adds a column the rollback takes back.
  write(b, R"([{"v":"x","extra":1}])", 1);
  write(b, R"([{"id":4,"v":"d"},{"id":5,"v":"e"}])", 2);
  s.ioc.restart();
  s.ioc.run();
  holder.join();
  for (size_t i = 0; i < writes.size(); ++i) {
    CAPTURE(i);
    if (i == 3)
      CHECK_THROWS_AS(writes[i].get(), restsync::db::store_error);
    else
      CHECK_NOTHROW(writes[i].get());
  }
  CHECK(counters(db, a) == "3/4/3/1/0");
  CHECK(counters(db, b) == "2/3/2/0/1");
  CHECK(db.scalar("SELECT count(*) FROM information_schema.columns WHERE table_schema = "
                  "'analytics' AND table_name = 'items' AND column_name = 'extra'") == "0");

  // The column the rollback took back is added again when a good page needs it.
  s.write(b, R"([{"id":6,"v":"f","extra":2}])", 3);
  CHECK(db.scalar("SELECT string_agg(concat_ws(':', id, v, extra), ',' ORDER BY id) FROM "
                  "analytics.items") == "1:z,2:b,3:c,4:d,5:e,6:f:2");
  CHECK(counters(db, b) == "3/4/3/0/1");
}

TEST_CASE(
    "two connections: concurrent runs use both, and a resource that moves keeps its columns") {
  items_store s;  // two connections: store_settings' default
  auto& db = s.db;
  REQUIRE(s.st.settings().connections == 2);
  run(s.ioc, s.st.prepare({"other", {"id"}}));
  run(s.ioc, s.st.prepare({"third", {"id"}}));
  auto begin = [&](const char* resource) { return run(s.ioc, s.st.begin_run(resource)).run_id; };
  auto write = [&](const char* resource, std::int64_t run_id, std::string records) {
    return run(s.ioc,
               s.st.write(page_write{resource, run_id, page_of(std::move(records)), 0, {}, {}}));
  };
  auto finish = [&](const char* resource, std::int64_t run_id) {
    restsync::db::run_summary sum;
    sum.run_id = run_id;
    sum.resource = resource;
    run(s.ioc, s.st.finish_run(sum));
  };
  auto backends = [&] {
    return db.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()");
  };

  // items on the first connection, other on the second.
  auto a = begin("items");
  auto b = begin("other");
  write("items", a, R"([{"id":1,"x":"a"}])");
  write("other", b, R"([{"id":1,"v":"b"}])");
  CHECK(backends() == "2");
  finish("items", a);
  finish("other", b);

  // The first connection is busy with third: items moves to the second,
  // which has to read the column x that the first added.
  auto t = begin("third");
  auto a2 = begin("items");
  auto c = write("items", a2, R"([{"id":1,"x":"a","y":1},{"id":2,"x":"b"}])");
  CHECK(c.inserted == 1);
  CHECK(c.updated == 1);
  finish("items", a2);
  finish("third", t);

  // And back to the first, whose view of items (x only) is stale by now.
  auto o = begin("other");
  auto a3 = begin("items");
  write("items", a3, R"([{"id":3,"x":"c","y":3,"z":true}])");
  finish("items", a3);
  finish("other", o);

  CHECK(db.scalar("SELECT string_agg(concat_ws(':', id, x, y, z), ',' ORDER BY id) FROM "
                  "analytics.items") == "1:a:1,2:b,3:c:3:t");
  CHECK(db.scalar("SELECT string_agg(column_name, ',' ORDER BY ordinal) FROM analytics._rs_columns "
                  "WHERE resource = 'items'") == "id,x,y,z");
  CHECK(counters(db, a2) == "1/2/1/1/0");
  CHECK(db.scalar("SELECT count(*) FROM analytics._rs_runs WHERE status <> 'succeeded'") == "0");
}

TEST_CASE(
    "deletions: finish_run marks what the last end_pass found, without reading the keys again") {
  items_store s;
  auto& db = s.db;
  auto first = s.begin();
  s.write(first, R"([{"id":1,"v":"a"},{"id":2,"v":"b"},{"id":3,"v":"c"}])", 0);
  restsync::db::run_summary done;
  done.run_id = first;
  done.resource = "items";
  run(s.ioc, s.st.finish_run(done));

  // A full run that no longer sees 2.
  auto full =
      run(s.ioc, s.st.begin_run("items",
                                {.track_keys = true, .scope = std::nullopt, .lease = std::nullopt}))
          .run_id;
  s.write(full, R"([{"id":1,"v":"a"},{"id":3,"v":"c"}])", 0);
  auto check = run(s.ioc, s.st.end_pass(full, true));
  CHECK(check.unseen == 1);
  CHECK(check.repeated == 0);
  // Another writer adds a row after the scan ended: the run never had a
  // chance to see it, so it must not be marked deleted.
  db.query("INSERT INTO analytics.items (id, v) VALUES (4, 'd')");
  restsync::db::run_summary sum;
  sum.run_id = full;
  sum.resource = "items";
  sum.complete_scan = true;
  sum.mark_deleted = true;
  auto counts = run(s.ioc, s.st.finish_run(sum));
  CHECK(counts.deleted == 1);
  CHECK(db.scalar("SELECT string_agg(id || ':' || (\"_rs_deleted_at\" IS NOT NULL), ',' ORDER BY "
                  "id) FROM analytics.items") == "1:false,2:true,3:false,4:false");

  // A write after end_pass drops what it found: the next scan's finish reads again.
  auto again =
      run(s.ioc, s.st.begin_run("items",
                                {.track_keys = true, .scope = std::nullopt, .lease = std::nullopt}))
          .run_id;
  s.write(again, R"([{"id":1,"v":"a"}])", 0);
  CHECK(run(s.ioc, s.st.end_pass(again, true)).unseen == 2);  // 3 and 4
  s.write(again, R"([{"id":3,"v":"c"}])", 1);
  CHECK(run(s.ioc, s.st.end_pass(again, false)).unseen == 0);
  sum.run_id = again;
  CHECK(run(s.ioc, s.st.finish_run(sum)).deleted == 1);  // 4 only
  CHECK(db.scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM analytics.items WHERE "
                  "\"_rs_deleted_at\" IS NOT NULL") == "2,4");
}

TEST_CASE("connections: 1 serves concurrent runs on one connection") {
  rs_test::scratch_database db;
  asio::io_context ioc;
  auto settings = settings_for(db);
  settings.connections = 1;
  store st{ioc.get_executor(), settings};
  run(ioc, st.open());
  run(ioc, st.prepare({"items", {"id"}}));
  run(ioc, st.prepare({"other", {"id"}}));
  auto a = run(ioc, st.begin_run("items")).run_id;
  auto b = run(ioc, st.begin_run("other")).run_id;
  run(ioc, st.write(page_write{"items", a, page_of(R"([{"id":1}])"), 0, {}, {}}));
  run(ioc, st.write(page_write{"other", b, page_of(R"([{"id":2}])"), 0, {}, {}}));
  CHECK(db.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                  "AND backend_type = 'client backend' AND pid <> pg_backend_pid()") == "1");
  for (auto [id, resource] : {std::pair{a, "items"}, std::pair{b, "other"}}) {
    restsync::db::run_summary sum;
    sum.run_id = id;
    sum.resource = resource;
    run(ioc, st.finish_run(sum));
  }
  CHECK(counters(db, a) == "1/1/1/0/0");
  CHECK(counters(db, b) == "1/1/1/0/0");
}

TEST_CASE("a run whose lease was lost writes nothing more, and its end says so") {
  items_store s;
  auto& db = s.db;
  auto lease = run(s.ioc, s.st.acquire_lease("items", "a", 60s));
  REQUIRE(lease.token);
  const restsync::db::fence f{"a", *lease.token};
  auto run_id =
      run(s.ioc, s.st.begin_run("items", {.track_keys = false, .scope = std::nullopt, .lease = f}))
          .run_id;
  s.write(run_id, R"([{"id":1,"v":"a"}])", 0);
  CHECK(db.scalar("SELECT instance FROM analytics._rs_runs WHERE id = " + std::to_string(run_id)) ==
        "a");

  // The lease expires (the daemon stalled): no page, and no end, is written.
  db.query("UPDATE analytics._rs_leases SET expires_at = now() - interval '1 second'");
  CHECK_THROWS_WITH_AS(s.write(run_id, R"([{"id":2,"v":"b"}])", 1),
                       doctest::Contains("no longer holds the resource's lease"),
                       restsync::db::store_error);
  restsync::db::run_summary sum;
  sum.run_id = run_id;
  sum.resource = "items";
  sum.cursor = "42";
  CHECK_THROWS_WITH_AS(run(s.ioc, s.st.finish_run(sum)), doctest::Contains("the lease was lost"),
                       restsync::db::store_error);
  CHECK(db.scalar("SELECT status FROM analytics._rs_runs WHERE id = " + std::to_string(run_id)) ==
        "abandoned");
  CHECK(db.scalar("SELECT count(*) FROM analytics.items") == "1");
  CHECK(db.scalar("SELECT coalesce(cursor_value, '') || '/' || (last_success_at IS NULL) FROM "
                  "analytics._rs_state WHERE resource = 'items'") == "/true");
}

// A million records: the emulator starts in seconds and pages fast enough
// never to be a benchmark's bottleneck.
#include "emulator_helpers.hpp"

using namespace emu_test;
using namespace std::chrono_literals;
using rs_test::emulator;
using clock_type = std::chrono::steady_clock;

TEST_CASE("--records 170000 starts and serves pages quickly") {
  auto t0 = clock_type::now();
  emulator em({"--records", "170000"});
  auto startup = std::chrono::duration<double>(clock_type::now() - t0).count();
  MESSAGE("start-up with 170000 records per list resource: " << startup << " s");
  CHECK(startup < 30);

  // The last page of each resource holds what is left.
  for (auto& r : list_resources) {
    auto p = read_page(em.get(paged(paths.at(r), 50, 169990)));
    CHECK_MESSAGE(p.records.size() == 10, r);
    CHECK(read_page(em.get(paged(paths.at(r), 50, 170000))).records.empty());
  }
  auto labels = parse(em.truth("labels"));
  CHECK(labels.Size() == 170000);

  // One keep-alive connection, sequential pages, like a client at latency 0.
  raw_connection c(em.ep().port);
  auto key = "api_key: " + em.api_key() + "\r\n";
  for (std::string r : {"users", "campaigns"}) {
    const int pages = 2000;
    std::size_t bytes = 0;
    auto start = clock_type::now();
    for (int i = 0; i < pages; ++i) {
      auto res = c.get(paged(paths.at(r), 50, static_cast<long long>(i) * 50), key);
      REQUIRE(res.status == 200);
      bytes += res.body.size();
    }
    auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
    MESSAGE(r << ": " << pages / secs << " pages/s, " << bytes / secs / 1e6 << " MB/s");
    CHECK(pages / secs > 300);
  }
}

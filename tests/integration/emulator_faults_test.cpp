// The emulator's faults, rate limit and latency over real sockets: each fault
// does what it says, fault choice is reproducible, the limit holds under a
// concurrent burst and every Retry-After form is served as configured.
#include <ctime>
#include <future>
#include <set>
#include <thread>

#include "emulator_helpers.hpp"

using namespace emu_test;
using namespace std::chrono_literals;
using rs_test::emulator;
using clock_type = std::chrono::steady_clock;

namespace {

const std::string users_page = paths.at("users") + "?limit=50&offset=0";

rapidjson::Document stats_of(const emulator& em) { return parse(em.stats()); }

// What a client makes of one request: a status, "transport" or "malformed".
std::string outcome(const emulator& em, const std::string& target) {
  try {
    auto res = em.get(target, true);
    if (res.status != 200) return std::to_string(res.status);
    rapidjson::Document d;
    d.Parse(res.body.data(), res.body.size());
    return d.HasParseError() ? "malformed" : "200";
  } catch (const std::runtime_error&) {
    return "transport";
  }
}

std::optional<std::time_t> parse_http_date(const std::string& text) {
  std::tm tm{};
  auto end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return timegm(&tm);
}

}  // namespace

TEST_CASE("reset: the connection dies without a response") {
  emulator em({"--faults", "reset=1"});
  CHECK_THROWS_AS(em.get(users_page), std::runtime_error);
  // Control endpoints are never faulted.
  CHECK_NOTHROW(em.truth("users"));
  auto s = stats_of(em);
  CHECK(s["faults"]["reset"].GetInt() == 1);
  CHECK(s["requests_total"].GetInt() == 1);
}

TEST_CASE("truncate: fewer body bytes than Content-Length, then close") {
  emulator em({"--faults", "truncate=1"});
  CHECK_THROWS_AS(em.get(users_page), std::runtime_error);
  raw_connection c(em.ep().port);
  c.send("GET " + users_page + " HTTP/1.1\r\nHost: x\r\napi_key: " + em.api_key() + "\r\n\r\n");
  CHECK_THROWS_WITH(c.read_response(), doctest::Contains("connection closed"));
  CHECK(stats_of(em)["faults"]["truncate"].GetInt() == 2);
}

TEST_CASE("malformed: a whole 200 response whose body is not JSON") {
  emulator em({"--faults", "malformed=1"});
  for (int i = 0; i < 4; ++i) {
    auto res = em.get(users_page);
    CHECK(res.status == 200);
    rapidjson::Document d;
    d.Parse(res.body.data(), res.body.size());
    CHECK(d.HasParseError());
  }
  CHECK(stats_of(em)["faults"]["malformed"].GetInt() == 4);
}

TEST_CASE("5xx: 500, 502 or 503 with a short body") {
  emulator em({"--faults", "5xx=1"});
  std::set<int> seen;
  for (int i = 0; i < 20; ++i) {
    auto res = em.get(users_page);
    CHECK((res.status == 500 || res.status == 502 || res.status == 503));
    CHECK(res.body.size() < 200);
    seen.insert(res.status);
  }
  CHECK(seen.size() == 3);
  auto s = stats_of(em);
  CHECK(s["faults"]["5xx"].GetInt() == 20);
}

TEST_CASE("drip: half a body, then silence until the client gives up; others are served") {
  emulator em({"--faults", "drip=1"});
  auto started = clock_type::now();
  auto dripping = std::async(std::launch::async, [&em] {
    return rs_test::http_request(em.ep(), "GET", users_page, {{"api_key", em.api_key()}}, {},
                                 std::chrono::milliseconds(1500));
  });
  std::this_thread::sleep_for(200ms);
  // The stalled connection blocks nobody.
  auto t0 = clock_type::now();
  CHECK_NOTHROW(em.truth("users"));
  CHECK(clock_type::now() - t0 < 500ms);
  CHECK_THROWS_AS(dripping.get(), std::runtime_error);
  auto waited = clock_type::now() - started;
  CHECK(waited >= 1400ms);
  CHECK(waited < 5s);
  raw_connection c(em.ep().port);
  c.send("GET " + users_page + " HTTP/1.1\r\nHost: x\r\napi_key: " + em.api_key() + "\r\n\r\n");
  std::this_thread::sleep_for(300ms);
  // Headers and part of the body have arrived; the rest never does.
  auto s = stats_of(em);
  CHECK(s["faults"]["drip"].GetInt() == 2);
}

TEST_CASE("the 429 fault refuses whatever the rate, with Retry-After") {
  emulator em({"--faults", "429=1"});
  auto res = em.get(users_page);
  CHECK(res.status == 429);
  CHECK(res.headers["retry-after"] == "1");
  CHECK(parse(res.body).HasMember("_errors"));
  auto s = stats_of(em);
  CHECK(s["rate_limited"].GetInt() == 1);
  CHECK(s["faults"]["429"].GetInt() == 1);
  CHECK(s["max_admitted_1s"].GetInt() == 0);
}

TEST_CASE("fault choice is reproducible from the seed and the request number") {
  auto run = [](const std::string& seed) {
    emulator em(
        {"--seed", seed, "--faults", "5xx=0.2,reset=0.1,truncate=0.1,malformed=0.1,429=0.1"});
    std::vector<std::string> outcomes;
    for (int i = 0; i < 60; ++i)
      outcomes.push_back(
          outcome(em, paths.at(i % 2 ? "users" : "labels") + "?offset=" + std::to_string(i % 3)));
    return outcomes;
  };
  auto a = run("9"), b = run("9"), c = run("10");
  CHECK(a == b);
  CHECK(a != c);
  std::set<std::string> kinds(a.begin(), a.end());
  CHECK(kinds.count("200"));
  CHECK(kinds.count("transport"));
  CHECK(kinds.count("malformed"));
  CHECK(kinds.count("429"));
}

TEST_CASE("faults switched on mid-run by /__config") {
  emulator em;
  CHECK(outcome(em, users_page) == "200");
  REQUIRE(post(em, "/__config", R"({"faults":"reset=1"})").status == 200);
  CHECK(outcome(em, users_page) == "transport");
  REQUIRE(post(em, "/__config", R"({"faults":"none"})").status == 200);
  CHECK(outcome(em, users_page) == "200");
}

TEST_CASE("the rate limit holds under a burst from many connections") {
  emulator em({"--rate-limit", "5", "--retry-after", "seconds"});
  std::vector<std::future<std::vector<rs_test::http_response>>> workers;
  for (int t = 0; t < 8; ++t)
    workers.push_back(std::async(std::launch::async, [&em] {
      std::vector<rs_test::http_response> out;
      for (int i = 0; i < 12; ++i) out.push_back(em.get(users_page));
      return out;
    }));
  int ok = 0, limited = 0;
  for (auto& w : workers)
    for (auto& res : w.get()) {
      if (res.status == 200) ++ok;
      if (res.status == 429) {
        ++limited;
        auto seconds = std::stoi(res.headers.at("retry-after"));
        CHECK(seconds >= 1);
        CHECK(seconds <= 1);  // at 5/s a token is never more than 200 ms away
        CHECK(parse(res.body)["_errors"][0]["code"].GetInt() == 429);
      }
    }
  CHECK(ok + limited == 96);
  auto s = stats_of(em);
  // A bucket of burst B refilling at R admits at most B + R = 10 in any one second.
  CHECK(s["max_admitted_1s"].GetInt() <= 10);
  CHECK(s["max_admitted_1s"].GetInt() >= 5);
  CHECK(s["rate_limited"].GetInt() == limited);
  CHECK(limited > 0);
  CHECK(s["max_requests_1s"].GetInt() >= s["max_admitted_1s"].GetInt());
  CHECK(s["connections_peak"].GetInt() >= 2);
}

TEST_CASE("Retry-After comes in every configured form") {
  auto limited_responses = [](const std::string& mode, int n) {
    emulator em({"--rate-limit", "1", "--retry-after", mode});
    std::vector<rs_test::http_response> out;
    while (static_cast<int>(out.size()) < n) {
      auto res = em.get(users_page);
      if (res.status == 429) out.push_back(res);
    }
    return out;
  };
  for (auto& res : limited_responses("seconds", 2)) {
    auto v = std::stoi(res.headers.at("retry-after"));
    CHECK(v >= 1);
    CHECK(v <= 1);
  }
  for (auto& res : limited_responses("date", 2)) {
    auto date = parse_http_date(res.headers.at("retry-after"));
    REQUIRE_MESSAGE(date.has_value(), res.headers.at("retry-after"));
    // In the future when sent (a second of slack for a slow test machine).
    auto now = std::time(nullptr);
    CHECK(*date >= now - 1);
    CHECK(*date <= now + 2);
  }
  for (auto& res : limited_responses("zero", 2)) CHECK(res.headers.at("retry-after") == "0");
  for (auto& res : limited_responses("none", 2)) CHECK(res.headers.count("retry-after") == 0);

  std::set<std::string> forms;
  for (auto& res : limited_responses("mixed", 8)) {
    auto it = res.headers.find("retry-after");
    if (it == res.headers.end()) {
      forms.insert("none");
    } else if (it->second == "0") {
      forms.insert("zero");
    } else if (parse_http_date(it->second)) {
      forms.insert("date");
    } else {
      CHECK(std::stoi(it->second) >= 1);
      forms.insert("seconds");
    }
  }
  CHECK(forms == std::set<std::string>{"seconds", "date", "zero", "none"});
}

TEST_CASE("latency delays every API response without blocking other connections") {
  emulator em({"--latency-ms", "400"});
  auto t0 = clock_type::now();
  std::vector<std::future<int>> parallel;
  for (int i = 0; i < 4; ++i)
    parallel.push_back(std::async(std::launch::async, [&em] { return em.get(users_page).status; }));
  for (auto& f : parallel) CHECK(f.get() == 200);
  auto took = clock_type::now() - t0;
  CHECK(took >= 400ms);
  CHECK(took < 1200ms);  // four delayed responses overlapped
  // Control endpoints are not delayed.
  t0 = clock_type::now();
  em.stats();
  CHECK(clock_type::now() - t0 < 300ms);
}

// The emulator's pure parts: settings, fault choice, token bucket, sliding
// window, JSON text handling, generation and mutations, without sockets.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "app.hpp"
#include "data_set.hpp"
#include "generator.hpp"
#include "json_text.hpp"
#include "mutation.hpp"
#include "rate_limiter.hpp"
#include "settings.hpp"
#include "stats.hpp"

using namespace emulator;
using namespace std::chrono_literals;

namespace {

std::array<std::size_t, resource_count> sizes(std::size_t n) {
  std::array<std::size_t, resource_count> s{};
  for (std::size_t r = 0; r < resource_count; ++r) s[r] = resources()[r].singleton ? 1 : n;
  return s;
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  REQUIRE_MESSAGE(!d.HasParseError(), text.substr(0, 200));
  return d;
}

}  // namespace

TEST_CASE("quirk specs") {
  CHECK(parse_quirks("none").bits == 0);
  CHECK(parse_quirks("").bits == 0);
  CHECK(parse_quirks("all").bits == 127);  // the vendor's quirks, never the hostile ones
  CHECK(parse_quirks("ignore_offset,echo_key").has(quirk::echo_key));
  CHECK(to_string(parse_quirks("page_cap,ignore_offset")) == "page_cap,ignore_offset");
  auto q = parse_quirks("page_cap, wrapped");
  CHECK(q.has(quirk::page_cap));
  CHECK(q.has(quirk::wrapped));
  CHECK_FALSE(q.has(quirk::singletons));
  CHECK(to_string(default_quirks()) == "singletons,feed_order");
  CHECK_THROWS_WITH_AS(parse_quirks("page_cap,bogus"), doctest::Contains("bogus"), usage_error);
}

TEST_CASE("fault specs and reproducible choice") {
  auto f = parse_faults("5xx=0.25,reset=0.25");
  CHECK(f.fraction[0] == 0.25);
  CHECK_THROWS_AS(parse_faults("5xx=0.8,reset=0.3"), usage_error);
  CHECK_THROWS_AS(parse_faults("5xx=2"), usage_error);
  CHECK_THROWS_WITH_AS(parse_faults("lag=0.1"), doctest::Contains("lag"), usage_error);
  CHECK_THROWS_AS(parse_faults("5xx"), usage_error);

  std::array<int, fault_kind_count + 1> seen{};
  for (std::uint64_t n = 0; n < 4000; ++n) {
    auto k = choose_fault(f, 7, n);
    CHECK(k == choose_fault(f, 7, n));
    ++seen[static_cast<std::size_t>(k)];
  }
  CHECK(seen[0] > 850);
  CHECK(seen[0] < 1150);
  CHECK(seen[1] > 850);
  CHECK(seen[static_cast<std::size_t>(fault_kind::none)] > 1800);
  CHECK(seen[static_cast<std::size_t>(fault_kind::truncate)] == 0);
  // The order a spec is written in does not change the outcome.
  auto g = parse_faults("reset=0.25,5xx=0.25");
  for (std::uint64_t n = 0; n < 200; ++n) CHECK(choose_fault(f, 3, n) == choose_fault(g, 3, n));
  auto all = parse_faults("429=1");
  CHECK(choose_fault(all, 1, 0) == fault_kind::too_many);
  CHECK(choose_fault(parse_faults("none"), 1, 0) == fault_kind::none);
}

TEST_CASE("command line") {
  auto o = parse_command_line({"--listen", "127.0.0.1:0", "--api-key", "k", "--records", "7",
                               "--records=labels=3", "--quirks", "all", "--rate-limit", "2.5"});
  CHECK(o.host == "127.0.0.1");
  CHECK(o.records[users] == 7);
  CHECK(o.records[labels] == 3);
  CHECK(o.records[smartcode] == 1);
  CHECK(o.runtime.rate_limit == 2.5);
  CHECK_THROWS_WITH_AS(parse_command_line({"--api-key", "k"}), doctest::Contains("--listen"),
                       usage_error);
  CHECK_THROWS_WITH_AS(parse_command_line({"--listen", "x:1", "--api-key", "k", "--seed", "abc"}),
                       doctest::Contains("--seed"), usage_error);
  CHECK_THROWS_WITH_AS(
      parse_command_line({"--listen", "x:1", "--api-key", "k", "--records", "smartcode=2"}),
      doctest::Contains("singleton"), usage_error);
  CHECK_THROWS_WITH_AS(parse_command_line({"--listen", "x:1", "--api-key", "k", "--bogus"}),
                       doctest::Contains("--bogus"), usage_error);
  CHECK_THROWS_WITH_AS(parse_command_line({"--listen", "x:1", "--api-key", "k", "--tls-cert", "c"}),
                       doctest::Contains("--tls-key"), usage_error);
}

TEST_CASE("token bucket") {
  token_bucket b(5);
  auto t = std::chrono::steady_clock::time_point{} + 100s;
  for (int i = 0; i < 5; ++i) CHECK_FALSE(b.try_take(t).has_value());
  auto wait = b.try_take(t);
  REQUIRE(wait.has_value());
  CHECK(*wait > 190ms);
  CHECK(*wait <= 200ms);
  CHECK(b.wait(t) == *wait);
  CHECK(b.try_take(t + 199ms).has_value());
  CHECK_FALSE(b.try_take(t + 200ms).has_value());
  // Never more than burst + rate in any second.
  int admitted = 0;
  for (int ms = 0; ms < 1000; ms += 10)
    if (!b.try_take(t + 10s + std::chrono::milliseconds(ms))) ++admitted;
  CHECK(admitted <= 10);
  CHECK(admitted >= 9);
  token_bucket unlimited(0);
  for (int i = 0; i < 1000; ++i) CHECK_FALSE(unlimited.try_take(t).has_value());
  token_bucket slow(0.5);
  CHECK_FALSE(slow.try_take(t).has_value());
  CHECK(*slow.try_take(t) == 2s);
}

TEST_CASE("sliding window counts within one second") {
  sliding_window w;
  auto t = std::chrono::steady_clock::time_point{} + 10s;
  for (int i = 0; i < 5; ++i) w.add(t + i * 100ms);
  CHECK(w.peak() == 5);
  w.add(t + 1000ms);  // t itself has left the window
  CHECK(w.peak() == 5);
  w.add(t + 1100ms);  // and so has t + 100ms
  CHECK(w.peak() == 5);
  w.add(t + 1150ms);
  CHECK(w.peak() == 6);
}

TEST_CASE("compact keeps every digit and split finds members") {
  auto c =
      compact(R"( { "a" : 123456789012345678901234567890 , "b":[1, {"c":"x\"y"}], "d":-0.5e3 } )");
  REQUIRE(c);
  CHECK(*c == R"({"a":123456789012345678901234567890,"b":[1,{"c":"x\"y"}],"d":-0.5e3})");
  CHECK_FALSE(compact("{\"a\":1} x"));
  CHECK_FALSE(compact("{\"a\":"));
  auto m = split_object(*c);
  REQUIRE(m);
  REQUIRE(m->size() == 3);
  CHECK((*m)[0].key == "a");
  CHECK((*m)[1].raw_value == R"([1,{"c":"x\"y"}])");
  CHECK((*m)[2].raw_value == "-0.5e3");
  auto a = split_array(R"([1,"a,b",{"x":[2,3]},null])");
  REQUIRE(a);
  CHECK(a->size() == 4);
  CHECK((*a)[2] == R"({"x":[2,3]})");
  CHECK(decode_string(R"("caf\u00e9")") == "café");
}

TEST_CASE("generation is deterministic, valid and hostile") {
  data_set one(1, sizes(300)), same(1, sizes(300)), other(2, sizes(300));
  auto q = parse_quirks("none");
  for (std::size_t r = 0; r < resource_count; ++r) {
    CHECK(one.truth(r, q) == same.truth(r, q));
    CHECK(one.truth(r, q) != other.truth(r, q));
    auto truth = one.truth(r, parse_quirks("all"));
    auto d = parse(truth);
    REQUIRE(d.IsArray());
    CHECK(d.Size() == one.size(r));
    for (auto& rec : d.GetArray()) {
      REQUIRE(rec.IsObject());
      CHECK(rec.HasMember(resources()[r].key.data()));
    }
  }
  auto campaigns_text = one.truth(campaigns, q);
  CHECK(campaigns_text.find("<script>") != std::string::npos);
  CHECK(campaigns_text.find("\\n") != std::string::npos);
  CHECK(campaigns_text.find("\\\\") != std::string::npos);
  CHECK(campaigns_text.find("\\\"") != std::string::npos);
  CHECK(campaigns_text.find("🚀") != std::string::npos);
  CHECK(campaigns_text.find(":null") != std::string::npos);
  CHECK(campaigns_text.find("\"eventHash\":1") != std::string::npos);
  CHECK(campaigns_text.find("\"lifetimeEvents\":") != std::string::npos);

  // Timestamps grow with the id.
  auto d = parse(one.truth(users, q));
  std::int64_t last_id = -1, last_created = -1;
  for (auto& u : d.GetArray()) {
    CHECK(u["id"].GetInt64() > last_id);
    last_id = u["id"].GetInt64();
    if (u.HasMember("createdOn") && u["createdOn"].IsInt64()) {
      CHECK(u["createdOn"].GetInt64() > last_created);
      last_created = u["createdOn"].GetInt64();
    }
  }
}

TEST_CASE("late fields appear past page one and change a type") {
  data_set data(5, sizes(120));
  auto late = parse(data.truth(users, parse_quirks("late_fields")));
  auto plain = parse(data.truth(users, parse_quirks("none")));
  for (rapidjson::SizeType i = 0; i < late.Size(); ++i) {
    CHECK(late[i].HasMember("region") == (i >= 50));
    if (i >= 50 && plain[i].HasMember("account") && plain[i]["account"].IsNumber())
      CHECK(late[i]["account"].IsString());
    if (i < 50) CHECK(late[i] == plain[i]);
  }
  auto feed = parse(data.truth(accounts_feeds, parse_quirks("late_fields,feed_order")));
  for (rapidjson::SizeType i = 0; i < feed.Size(); ++i)
    CHECK(feed[i].HasMember("region") == (i >= 50 && i < 70));
}

TEST_CASE("mutations") {
  data_set data(1, sizes(60));
  auto q = default_quirks();
  auto r = apply_mutations(
      data, R"({"ops":[{"op":"add","resource":"users","count":2,"position":"front"}]})", q);
  REQUIRE_MESSAGE(r.ok, r.body);
  auto added = parse(r.body);
  CHECK(added["added"].Size() == 2);
  CHECK(data.size(users) == 62);
  CHECK(data.at(users).records[0].key == std::to_string(added["added"][0].GetInt64()));

  r = apply_mutations(
      data,
      R"({"ops":[{"op":"change","resource":"custom_widgets","id":)" +
          data.at(custom_widgets).records[3].key +
          R"(,"fields":{"name":"renamed","extra":{"big":123456789012345678901234}}}]})",
      q);
  REQUIRE_MESSAGE(r.ok, r.body);
  auto w = data.at(custom_widgets).records[3].json;
  CHECK(w.find("\"name\":\"renamed\"") != std::string::npos);
  CHECK(w.find("123456789012345678901234") != std::string::npos);

  auto before = data.truth(labels, q);
  r = apply_mutations(data,
                      R"({"ops":[{"op":"remove","resource":"labels","count":2},)"
                      R"({"op":"remove","resource":"labels","id":999999999}]})",
                      q);
  CHECK_FALSE(r.ok);
  CHECK(r.body.find("999999999") != std::string::npos);
  CHECK(data.truth(labels, q) == before);

  for (auto bad :
       {R"({"ops":[{"op":"explode","resource":"labels"}]})",
        R"({"ops":[{"op":"add","resource":"nope","count":1}]})",
        R"({"ops":[{"op":"add","resource":"smartcode","count":1}]})",
        R"({"ops":[{"op":"change","resource":"labels"}]})", R"({"ops":5})", "nonsense"}) {
    auto res = apply_mutations(data, bad, q);
    CHECK_MESSAGE(!res.ok, bad);
  }
}

TEST_CASE("http date") {
  CHECK(http_date(std::chrono::system_clock::from_time_t(784111777)) ==
        "Sun, 06 Nov 1994 08:49:37 GMT");
}

namespace {

reply get(app& a, std::string target, std::optional<std::string_view> header_key = "k") {
  request_view req;
  req.method = "GET";
  req.target = target;
  req.api_key = header_key;
  return a.handle(req, std::chrono::steady_clock::now(), std::chrono::system_clock::now());
}

app hostile_app(std::string_view quirks, std::string auth_query = {}) {
  auto o = parse_command_line({"--listen", "127.0.0.1:0", "--api-key", "k", "--records", "120",
                               "--quirks", std::string(quirks)});
  o.auth_query = std::move(auth_query);
  return app(o, data_set(o.seed, o.records));
}

}  // namespace

TEST_CASE("hostile quirks: ignore_offset, echo_key, padding, the key in the query") {
  auto same = hostile_app("ignore_offset");
  auto first = get(same, "/v1/accounts/current/users?limit=50&offset=0");
  CHECK(first.status == 200);
  CHECK(get(same, "/v1/accounts/current/users?limit=50&offset=100").body == first.body);

  auto echo = hostile_app("echo_key");
  auto refused = get(echo, "/v1/accounts/current/users", std::string_view("wrong-key-123"));
  CHECK(refused.status == 401);
  CHECK(refused.body.find("wrong-key-123") != std::string::npos);
  auto quiet = hostile_app("none");
  CHECK(get(quiet, "/v1/accounts/current/users", std::string_view("wrong-key-123"))
            .body.find("wrong-key-123") == std::string::npos);

  auto query = hostile_app("none", "api_key");
  CHECK(get(query, "/v1/accounts/current/users?api_key=k&limit=2", std::nullopt).status == 200);
  CHECK(get(query, "/v1/accounts/current/users?limit=2").status == 401);

  auto padded = hostile_app("none");
  padded.handle({"POST", "/__config", std::nullopt, R"({"pad_bytes":1000})", true},
                std::chrono::steady_clock::now(), std::chrono::system_clock::now());
  auto page = get(padded, "/v1/accounts/current/users?limit=3&offset=0");
  auto d = parse(page.body);
  REQUIRE(d["_data"].Size() == 3);
  for (auto& r : d["_data"].GetArray()) CHECK(r["pad"].GetStringLength() == 1000);
  CHECK(page.body.size() > 3000);
}

// The analytics emulator over real sockets: paging against /__truth under
// every quirk, auth, keep-alive, determinism, mutations, stats, /__config,
// HTTPS and the command line.
#include <algorithm>
#include <csignal>
#include <set>

#include "emulator_helpers.hpp"

using namespace emu_test;
using namespace std::chrono_literals;
using rs_test::emulator;

namespace {

std::string first_page_body(const emulator& em, const std::string& resource) {
  return em.get(paged(paths.at(resource), 50, 0)).body;
}

long long stat(const rapidjson::Document& s, const char* name) { return s[name].GetInt64(); }

}  // namespace

TEST_CASE("pages of any size concatenate exactly to the truth (default quirks)") {
  emulator em;
  for (auto& r : list_resources) {
    auto truth = truth_records(em, r);
    CHECK_MESSAGE(!truth.empty(), r);
    for (long long limit : {50LL, 1LL, 7LL, 100LL, 1000LL}) {
      auto s = scan(em, r, limit);
      CHECK_MESSAGE(s.records == truth, r << " limit " << limit);
      for (std::size_t i = 0; i + 1 < s.page_sizes.size(); ++i)
        CHECK(s.page_sizes[i] == static_cast<std::size_t>(std::min<long long>(
                                     limit, static_cast<long long>(truth.size()) -
                                                static_cast<long long>(i) * limit)));
      CHECK(s.page_sizes.back() == 0);
    }
  }
  // Default sizes: a few hundred records, more than one page of 50 (accounts aside).
  for (auto& r : {"accounts_feeds", "users", "campaigns", "custom_widgets", "labels"})
    CHECK_MESSAGE(truth_records(em, r).size() > 50, r);
  CHECK(truth_records(em, "accounts").size() >= 1);

  // Singletons: `_data` is one object whatever the offset.
  for (auto& r : singletons) {
    auto truth = truth_records(em, r);
    REQUIRE(truth.size() == 1);
    for (long long offset : {0LL, 1LL, 50LL, 1000LL}) {
      auto p = read_page(em.get(paged(paths.at(r), 50, offset)));
      CHECK(p.single);
      REQUIRE(p.records.size() == 1);
      CHECK(p.records[0] == truth[0]);
    }
  }

  // The feed is newest first.
  auto feed = parse(em.truth("accounts_feeds"));
  long long last = std::numeric_limits<long long>::max();
  for (auto& e : feed.GetArray()) {
    REQUIRE(e["id"].IsString());
    if (e.HasMember("when") && e["when"].IsInt64()) {
      CHECK(e["when"].GetInt64() < last);
      last = e["when"].GetInt64();
    }
  }
}

TEST_CASE("responses are JSON with the right headers, and connections are kept alive") {
  emulator em;
  emu_test::raw_connection c(em.ep().port);
  auto key = "api_key: " + em.api_key() + "\r\n";
  for (int i = 0; i < 3; ++i) {
    auto res = c.get(paged(paths.at("users"), 50, 50 * i), key);
    CHECK(res.status == 200);
    CHECK(res.headers["content-type"] == "application/json; charset=utf-8");
    CHECK(std::stoul(res.headers["content-length"]) == res.body.size());
    CHECK_NOTHROW(parse(res.body));
  }
  auto stats = parse(em.stats());
  CHECK(stat(stats, "connections_peak") == 2);  // ours and the stats request's
  // A client that waits for "100 Continue" before sending a body gets it.
  std::string body = R"({"ops":[{"op":"change","resource":"labels","count":1}]})";
  c.send("POST /__mutate HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n");
  CHECK(c.read_head().rfind("HTTP/1.1 100 Continue", 0) == 0);
  c.send(body);
  CHECK(c.read_response().status == 200);
  // "Connection: close" is honoured.
  auto res = c.get(paths.at("labels"), key + "Connection: close\r\n");
  CHECK(res.status == 200);
  CHECK(res.headers["connection"] == "close");
  CHECK(c.peer_closed());
}

TEST_CASE("default limit and offset, bad parameters, unknown paths") {
  emulator em;
  auto users = truth_records(em, "users");
  auto p = read_page(em.get(paths.at("users")));
  CHECK(p.records == std::vector<std::string>(users.begin(), users.begin() + 50));
  p = read_page(em.get(paths.at("users") + "?offset=70"));
  CHECK(p.records == std::vector<std::string>(users.begin() + 70, users.end()));
  p = read_page(em.get(paths.at("users") + "?limit=3&offset=5&unrelated=x"));
  CHECK(p.records == std::vector<std::string>(users.begin() + 5, users.begin() + 8));

  for (auto q : {"?limit=abc", "?limit=-1", "?limit=0", "?offset=x", "?offset=", "?limit=1e3",
                 "?offset=-5"}) {
    auto res = em.get(paths.at("users") + q);
    CHECK_MESSAGE(res.status == 400, q);
    auto d = parse(res.body);
    REQUIRE(d.HasMember("_errors"));
    CHECK(d["_errors"].Size() == 1);
    CHECK(d["_errors"][0]["code"].GetInt() == 400);
  }
  auto res = em.get("/v1/nope");
  CHECK(res.status == 404);
  CHECK(parse(res.body).HasMember("_errors"));
  res = em.get("/__truth/nope");
  CHECK(res.status == 404);
  res =
      rs_test::http_request(em.ep(), "POST", paths.at("users"), {{"api_key", em.api_key()}}, "{}");
  CHECK(res.status == 405);
}

TEST_CASE("quirks off: arrays everywhere, feed ascending, plain pages") {
  emulator em({"--quirks", "none"});
  for (auto& r : list_resources) {
    auto truth = truth_records(em, r);
    for (long long limit : {50LL, 13LL}) CHECK_MESSAGE(scan(em, r, limit).records == truth, r);
  }
  for (auto& r : singletons) {
    auto truth = truth_records(em, r);
    REQUIRE(truth.size() == 1);
    auto p = read_page(em.get(paged(paths.at(r), 50, 0)));
    CHECK_FALSE(p.single);
    CHECK(p.records == truth);
    p = read_page(em.get(paged(paths.at(r), 50, 1)));
    CHECK(p.has_data);
    CHECK(p.records.empty());
    CHECK(scan(em, r, 50).records == truth);
  }
  auto feed = parse(em.truth("accounts_feeds"));
  long long last = 0;
  for (auto& e : feed.GetArray())
    if (e.HasMember("when") && e["when"].IsInt64()) {
      CHECK(e["when"].GetInt64() > last);
      last = e["when"].GetInt64();
    }
  // An empty page is {"_data":[]} without empty_no_data.
  CHECK(em.get(paged(paths.at("labels"), 50, 100000)).body == "{\"_data\":[]}");
}

TEST_CASE("all quirks on: capped, wrapped, empty pages without _data, late fields") {
  emulator em({"--quirks", "all"});
  for (auto& r : list_resources) {
    auto truth = truth_records(em, r);
    for (long long limit : {50LL, 10LL, 30LL})
      CHECK_MESSAGE(scan(em, r, limit).records == truth, r);
  }

  // page_cap: 25 per page at limit 50, the offset advancing by 25.
  auto campaigns = truth_records(em, "campaigns");
  REQUIRE(campaigns.size() == 80);
  auto s = scan(em, "campaigns", 50);
  CHECK(s.page_sizes == std::vector<std::size_t>{25, 25, 25, 5, 0});
  // wrapped: totalCount and the requested offset.
  REQUIRE(s.pages[1].wrapped);
  CHECK(s.pages[1].total == 80);
  auto second = parse(em.get(paged(paths.at("campaigns"), 50, 25)).body);
  CHECK(second["_data"]["offset"].GetInt() == 25);
  CHECK(second["_data"]["totalCount"].GetInt() == 80);
  // Limits below the cap are honoured.
  CHECK(scan(em, "campaigns", 10).page_sizes.front() == 10);

  // empty_no_data: `{}` and `{"_errors":[]}` in turn, both 200.
  std::set<std::string> empties;
  for (int i = 0; i < 4; ++i) {
    auto res = em.get(paged(paths.at("labels"), 50, 100000));
    CHECK(res.status == 200);
    empties.insert(res.body);
  }
  CHECK(empties == std::set<std::string>{"{}", "{\"_errors\":[]}"});

  // Singletons ignore limit and offset.
  for (auto& r : singletons) {
    auto truth = truth_records(em, r);
    for (long long offset : {0LL, 50LL})
      CHECK(read_page(em.get(paged(paths.at(r), 1, offset))).records == truth);
  }

  // late_fields: page one never shows region/score/meta, later pages do, and a
  // field changes type.
  for (auto& r : {"users", "campaigns", "accounts_feeds", "custom_widgets", "labels"}) {
    auto page_one = parse(first_page_body(em, r));
    const auto& first =
        page_one["_data"].IsObject() ? page_one["_data"]["partialCollection"] : page_one["_data"];
    for (auto& rec : first.GetArray()) CHECK_FALSE(rec.HasMember("region"));
    auto all = parse(em.truth(r));
    bool late_seen = false;
    for (auto& rec : all.GetArray()) late_seen = late_seen || rec.HasMember("score");
    CHECK_MESSAGE(late_seen, r);
  }
  auto users = parse(em.truth("users"));
  std::set<rapidjson::Type> account_types;
  for (auto& u : users.GetArray())
    if (u.HasMember("account") && !u["account"].IsNull())
      account_types.insert(u["account"].GetType());
  CHECK(account_types.size() == 2);
}

TEST_CASE("individual quirks switch independently") {
  emulator em({"--quirks", "page_cap", "--page-cap", "10"});
  auto s = scan(em, "campaigns", 50);
  CHECK(s.page_sizes.front() == 10);
  CHECK_FALSE(s.pages.front().wrapped);
  CHECK(s.records == truth_records(em, "campaigns"));
  // Only campaigns are capped.
  CHECK(scan(em, "users", 50).page_sizes.front() == 50);
  // Feed ascending (feed_order off), singletons as arrays.
  CHECK_FALSE(read_page(em.get(paths.at("smartcode"))).single);
}

TEST_CASE("auth: missing or wrong key, errors in a 200, custom header name") {
  const std::string invalid = R"({"_errors":[{"code":401,"message":"Invalid API token"}]})";
  {
    emulator em;
    auto res = em.get(paths.at("users"), false);
    CHECK(res.status == 401);
    CHECK(res.body == invalid);
    res = rs_test::http_request(em.ep(), "GET", paths.at("users"), {{"api_key", "wrong"}});
    CHECK(res.status == 401);
    CHECK(res.body == invalid);
    res = rs_test::http_request(em.ep(), "GET", paths.at("users"), {{"token", em.api_key()}});
    CHECK(res.status == 401);
    // Control endpoints need no key.
    CHECK(rs_test::http_request(em.ep(), "GET", "/__stats").status == 200);
  }
  {
    emulator em({"--quirks", "errors_in_200"});
    auto res = em.get(paths.at("campaigns"), false);
    CHECK(res.status == 200);
    CHECK(res.body == invalid);
    CHECK(em.get(paths.at("campaigns")).status == 200);
  }
  {
    emulator em({"--auth-header", "token"});
    CHECK(em.get(paths.at("users")).status == 200);
    auto res =
        rs_test::http_request(em.ep(), "GET", paths.at("users"), {{"api_key", em.api_key()}});
    CHECK(res.status == 401);
    // Header names are case-insensitive.
    res = rs_test::http_request(em.ep(), "GET", paths.at("users"), {{"Token", em.api_key()}});
    CHECK(res.status == 200);
  }
}

TEST_CASE("same seed, same data; another seed, other data; sizes from --records") {
  emulator a({"--seed", "42"}), b({"--seed", "42"}), c({"--seed", "43"});
  for (auto& [r, path] : paths) {
    CHECK_MESSAGE(a.truth(r) == b.truth(r), r);
    CHECK_MESSAGE(a.truth(r) != c.truth(r), r);
    CHECK(first_page_body(a, r) == first_page_body(b, r));
  }
  emulator sized({"--records", "5", "--records", "users=120"});
  CHECK(truth_records(sized, "users").size() == 120);
  CHECK(truth_records(sized, "labels").size() == 5);
  CHECK(truth_records(sized, "smartcode").size() == 1);
  // A small data set is the head of a large one: records depend on the seed and index only.
  auto small = truth_records(sized, "labels");
  emulator big({"--records", "labels=500", "--quirks", "none"});
  auto all = truth_records(big, "labels");
  CHECK(all.size() == 500);
  CHECK(std::equal(small.begin(), small.end(), all.begin()));

  emulator none({"--records", "0", "--quirks", "all"});
  for (auto& r : list_resources) {
    auto s = scan(none, r, 50);
    CHECK(s.records.empty());
    CHECK_FALSE(s.pages.front().has_data);
  }
}

TEST_CASE("records carry every documented field and the hostile values") {
  emulator em({"--records", "400"});
  const std::map<std::string, std::vector<std::string>> fields = {
      {"accounts", {"id", "createdOn", "name", "isActive", "isEnabled", "isMainAccount"}},
      {"accounts_feeds", {"id", "when", "type", "verb", "what", "campaign", "who"}},
      {"users",
       {"id", "createdOn", "account", "lastLogin", "country", "department", "email", "name",
        "permission", "phone", "title"}},
      {"smartcode", {"uid", "async", "sync"}},
      {"campaigns",
       {"id", "createdOn", "primaryGoal", "type", "name", "platform", "status", "isApprovalPending",
        "isBayesian", "isDeleted", "createdBy", "labels", "goals", "variations", "stats",
        "associatedCampaign", "campaignGroup"}},
      {"custom_widgets",
       {"id", "createdAt", "updatedAt", "type", "name", "description", "createdBy"}},
      {"thresholds", {"uid", "losingPercent", "winningPercent", "visitors"}},
      {"integrations", {"uid", "isGaPremium", "clicktale", "ga", "gtm", "ua"}},
      {"labels", {"id", "name"}},
  };
  for (auto& [r, names] : fields) {
    auto d = parse(em.truth(r));
    std::map<std::string, int> present, nulls;
    for (auto& rec : d.GetArray())
      for (auto& m : rec.GetObject()) {
        ++present[m.name.GetString()];
        if (m.value.IsNull()) ++nulls[m.name.GetString()];
      }
    for (auto& f : names) CHECK_MESSAGE(present[f] > 0, r << "." << f);
    if (d.Size() > 1) {
      CHECK(present[names[0]] == static_cast<int>(d.Size()));  // the key, always
      CHECK(nulls[names[0]] == 0);
      int absent_or_null = 0;
      for (std::size_t i = 1; i < names.size(); ++i)
        absent_or_null += static_cast<int>(d.Size()) - present[names[i]] + nulls[names[i]];
      CHECK_MESSAGE(absent_or_null > 0, r);
    }
  }
  auto campaigns = em.truth("campaigns");
  for (auto needle : {"<script>", "\\n", "\\\\", "\\\"", "🚀", "\\ud83d"})
    CHECK_MESSAGE(campaigns.find(needle) != std::string::npos, needle);
  auto d = parse(campaigns);
  bool beyond_53 = false, beyond_int64 = false, beyond_uint64 = false, wrapped_goals = false;
  for (auto& c : d.GetArray()) {
    if (c.HasMember("goals") && c["goals"].IsObject())
      wrapped_goals = wrapped_goals || c["goals"].HasMember("partialCollection");
    if (!c.HasMember("stats") || !c["stats"].IsObject()) continue;
    for (auto& m : c["stats"].GetObject()) {
      if (m.value.IsUint64() && m.value.GetUint64() > (1ULL << 53)) beyond_53 = true;
      if (m.value.IsUint64() && !m.value.IsInt64()) beyond_int64 = true;
      if (m.value.IsDouble() && m.value.GetDouble() > 1.9e19) beyond_uint64 = true;
    }
  }
  CHECK(beyond_53);
  CHECK(beyond_int64);
  CHECK(beyond_uint64);
  CHECK(wrapped_goals);
  auto smartcode = parse(em.truth("smartcode"));
  CHECK(std::string(smartcode[0]["async"].GetString()).find("<script") != std::string::npos);
}

TEST_CASE("mutations show in the truth and in pages") {
  emulator em({"--quirks", "singletons,feed_order,late_fields"});
  auto before = truth_records(em, "users");

  auto res = em.mutate(R"({"ops":[{"op":"add","resource":"users","count":2,"position":"front"},
                                   {"op":"add","resource":"users","count":1,"position":"back"}]})");
  REQUIRE_MESSAGE(res.status == 200, res.body);
  auto out = parse(res.body);
  REQUIRE(out["added"].Size() == 3);
  auto users = parse(em.truth("users"));
  REQUIRE(users.Size() == before.size() + 3);
  CHECK(users[0]["id"] == out["added"][0]);
  CHECK(users[1]["id"] == out["added"][1]);
  CHECK(users[users.Size() - 1]["id"] == out["added"][2]);
  // Fresh ids and timestamps are newer than everything before.
  std::int64_t max_id = 0, max_created = 0;
  for (rapidjson::SizeType i = 2; i + 1 < users.Size(); ++i) {
    max_id = std::max(max_id, users[i]["id"].GetInt64());
    if (users[i].HasMember("createdOn") && users[i]["createdOn"].IsInt64())
      max_created = std::max(max_created, users[i]["createdOn"].GetInt64());
  }
  for (int i : {0, 1}) {
    CHECK(users[i]["id"].GetInt64() > max_id);
    if (users[i].HasMember("createdOn") && users[i]["createdOn"].IsInt64())
      CHECK(users[i]["createdOn"].GetInt64() > max_created);
  }
  CHECK(scan(em, "users", 50).records == truth_records(em, "users"));

  // The feed's new events are the newest, so they lead the newest-first order.
  res = em.mutate(R"({"ops":[{"op":"add","resource":"accounts_feeds","count":3}]})");
  REQUIRE(res.status == 200);
  out = parse(res.body);
  auto feed = parse(em.truth("accounts_feeds"));
  std::set<std::string> added, leading;
  for (int i = 0; i < 3; ++i) {
    added.insert(out["added"][i].GetString());
    leading.insert(feed[i]["id"].GetString());
  }
  CHECK(added == leading);

  // Change by id: fields merged, big numbers kept, updatedAt bumped.
  auto widgets = parse(em.truth("custom_widgets"));
  auto wid = widgets[5]["id"].GetInt64();
  std::int64_t newest_update = 0;
  for (auto& w : widgets.GetArray())
    if (w.HasMember("updatedAt") && w["updatedAt"].IsInt64())
      newest_update = std::max(newest_update, w["updatedAt"].GetInt64());
  res = em.mutate(
      R"({"ops":[{"op":"change","resource":"custom_widgets","id":)" + std::to_string(wid) +
      R"(,"fields":{"name":"Renamed \"widget\" ✓","huge":123456789012345678901234567890}}]})");
  REQUIRE_MESSAGE(res.status == 200, res.body);
  CHECK(parse(res.body)["changed"][0].GetInt64() == wid);
  auto w5 = parse<exact>(em.truth("custom_widgets"));
  CHECK(std::string(w5[5]["name"].GetString()) == "Renamed \"widget\" ✓");
  CHECK(std::string(w5[5]["huge"].GetString()) == "123456789012345678901234567890");
  CHECK(std::stoll(w5[5]["updatedAt"].GetString()) > newest_update);
  CHECK(scan(em, "custom_widgets", 50).records == truth_records(em, "custom_widgets"));

  // Change by count: N records differ, deterministically.
  auto labels_before = truth_records(em, "labels");
  res = em.mutate(R"({"ops":[{"op":"change","resource":"labels","count":4}]})");
  REQUIRE(res.status == 200);
  CHECK(parse(res.body)["changed"].Size() == 4);
  auto labels_after = truth_records(em, "labels");
  REQUIRE(labels_after.size() == labels_before.size());
  int differing = 0;
  for (std::size_t i = 0; i < labels_after.size(); ++i)
    differing += labels_after[i] != labels_before[i];
  CHECK(differing == 4);

  // Singletons change but are never added or removed; a string uid matches.
  std::string uid = parse(em.truth("thresholds"))[0]["uid"].GetString();
  res = em.mutate(R"({"ops":[{"op":"change","resource":"thresholds","id":")" + uid +
                  R"(","fields":{"visitors":7}}]})");
  CHECK(res.status == 200);
  CHECK(parse(em.truth("thresholds"))[0]["visitors"].GetInt() == 7);

  // Remove by id, and by count at the front, the back and spread.
  auto ids = [&](const std::string& r) {
    std::vector<std::string> v;
    auto d = parse(em.truth(r));
    for (auto& rec : d.GetArray()) v.push_back(dump(rec["id"]));
    return v;
  };
  auto label_ids = ids("labels");
  res =
      em.mutate(R"({"ops":[{"op":"remove","resource":"labels","id":")" + label_ids[3] + R"("}]})");
  REQUIRE_MESSAGE(res.status == 200, res.body);
  auto now_ids = ids("labels");
  CHECK(now_ids.size() == label_ids.size() - 1);
  CHECK(std::find(now_ids.begin(), now_ids.end(), label_ids[3]) == now_ids.end());

  res = em.mutate(R"({"ops":[{"op":"remove","resource":"labels","count":2,"position":"front"},
                              {"op":"remove","resource":"labels","count":2,"position":"back"}]})");
  REQUIRE(res.status == 200);
  auto trimmed = ids("labels");
  CHECK(std::vector<std::string>(now_ids.begin() + 2, now_ids.end() - 2) == trimmed);
  res =
      em.mutate(R"({"ops":[{"op":"remove","resource":"labels","count":10,"position":"spread"}]})");
  REQUIRE(res.status == 200);
  auto spread = ids("labels");
  CHECK(spread.size() == trimmed.size() - 10);
  // Spread removals come from all over the list, not from one end.
  std::vector<std::size_t> removed_at;
  auto removed = parse(res.body);
  for (auto& id : removed["removed"].GetArray())
    removed_at.push_back(static_cast<std::size_t>(
        std::find(trimmed.begin(), trimmed.end(), dump(id)) - trimmed.begin()));
  std::sort(removed_at.begin(), removed_at.end());
  REQUIRE(removed_at.size() == 10);
  CHECK(removed_at.front() < trimmed.size() / 5);
  CHECK(removed_at.back() > trimmed.size() * 4 / 5);
  CHECK(removed_at.back() < trimmed.size());
  CHECK(scan(em, "labels", 50).records == truth_records(em, "labels"));

  // An explicit record, with and without its key.
  res = em.mutate(
      R"({"ops":[{"op":"add","resource":"labels","record":{"id":99999999,"name":"mine"},"position":"front"},
                              {"op":"add","resource":"labels","record":{"name":"keyless"}}]})");
  REQUIRE_MESSAGE(res.status == 200, res.body);
  auto labels = parse(em.truth("labels"));
  CHECK(dump(labels[0]) == R"({"id":99999999,"name":"mine"})");
  CHECK(std::string(labels[labels.Size() - 1]["name"].GetString()) == "keyless");
  CHECK(labels[labels.Size() - 1]["id"].IsInt64());
}

TEST_CASE("bad mutations are refused whole, naming what is wrong") {
  emulator em;
  auto before = em.truth("labels");
  struct bad_case {
    std::string body, mentions;
  };
  for (
      auto& [body, mentions] : std::vector<bad_case>{
          {"not json", "JSON"},
          {R"({"ops":[{"op":"explode","resource":"labels"}]})", "explode"},
          {R"({"ops":[{"op":"add","resource":"nope","count":1}]})", "nope"},
          {R"({"ops":[{"op":"add","resource":"smartcode","count":1}]})", "singleton"},
          {R"({"ops":[{"op":"remove","resource":"labels","id":123456789}]})", "123456789"},
          {R"({"ops":[{"op":"remove","resource":"labels","count":100000}]})", "100000"},
          {R"({"ops":[{"op":"add","resource":"labels","count":1,"position":"middle"}]})",
           "position"},
          {R"({"ops":[{"op":"change","resource":"labels","id":1}]})", "fields"},
          {R"({"ops":[{"op":"add","resource":"labels","count":2},{"op":"remove","resource":"labels","id":-1}]})",
           "ops[1]"},
      }) {
    auto res = em.mutate(body);
    CHECK_MESSAGE(res.status == 400, body);
    CHECK_MESSAGE(res.body.find(mentions) != std::string::npos, res.body);
    CHECK(parse(res.body).HasMember("_errors"));
  }
  CHECK(em.truth("labels") == before);
}

TEST_CASE("a mutation lands between two pages of a scan") {
  emulator em;
  auto before = truth_records(em, "users");
  auto p0 = read_page(em.get(paged(paths.at("users"), 50, 0)));
  CHECK(p0.records == std::vector<std::string>(before.begin(), before.begin() + 50));
  REQUIRE(em.mutate(R"({"ops":[{"op":"remove","resource":"users","count":1,"position":"front"}]})")
              .status == 200);
  auto p1 = read_page(em.get(paged(paths.at("users"), 50, 50)));
  // Removing at the front shifted record 50 out of this scan's view.
  CHECK(p1.records == std::vector<std::string>(before.begin() + 51, before.end()));
}

TEST_CASE("stats count API requests only") {
  emulator em;
  REQUIRE(rs_test::http_request(em.ep(), "POST", "/__stats/reset", {}, "").status == 200);
  for (int i = 0; i < 3; ++i) em.get(paths.at("users"));
  em.get(paths.at("labels"));
  em.get(paths.at("labels"), false);
  em.get("/v1/unknown");
  em.truth("users");
  auto s = parse(em.stats());
  CHECK(stat(s, "requests_total") == 6);
  CHECK(s["requests"][paths.at("users").c_str()].GetInt() == 3);
  CHECK(s["requests"][paths.at("labels").c_str()].GetInt() == 2);
  CHECK(s["status"]["200"].GetInt() == 4);
  CHECK(s["status"]["401"].GetInt() == 1);
  CHECK(s["status"]["404"].GetInt() == 1);
  CHECK(stat(s, "rate_limited") == 0);
  CHECK(stat(s, "max_requests_1s") == 6);
  CHECK(stat(s, "max_admitted_1s") == 6);
  CHECK(stat(s, "connections_open") == 1);  // the stats request itself
  CHECK(stat(s, "connections_peak") >= 1);
  for (auto& f : {"5xx", "reset", "truncate", "malformed", "drip", "429"})
    CHECK(s["faults"][f].GetInt() == 0);

  REQUIRE(rs_test::http_request(em.ep(), "POST", "/__stats/reset", {}, "").status == 200);
  s = parse(em.stats());
  CHECK(stat(s, "requests_total") == 0);
  CHECK(s["requests"].ObjectEmpty());
  CHECK(s["status"].ObjectEmpty());
  CHECK(stat(s, "max_requests_1s") == 0);
  CHECK(rs_test::http_request(em.ep(), "GET", "/__stats/reset").status == 405);
}

TEST_CASE("/__config changes settings at run time, validated like the command line") {
  emulator em;
  CHECK(em.get(paths.at("users")).status == 200);
  auto res = post(em, "/__config", R"({"faults":"5xx=1","quirks":"all","latency_ms":0})");
  REQUIRE_MESSAGE(res.status == 200, res.body);
  CHECK(parse(res.body)["quirks"].GetString() ==
        std::string(
            "page_cap,wrapped,empty_no_data,singletons,feed_order,errors_in_200,late_fields"));
  auto status = em.get(paths.at("users")).status;
  CHECK((status == 500 || status == 502 || status == 503));
  res = post(em, "/__config", R"({"faults":"none","rate_limit":1,"retry_after":"zero"})");
  REQUIRE(res.status == 200);
  CHECK(em.get(paths.at("users")).status == 200);
  res = em.get(paths.at("users"));
  CHECK(res.status == 429);
  CHECK(res.headers["retry-after"] == "0");
  res = post(em, "/__config", R"({"rate_limit":0})");
  CHECK(em.get(paths.at("users")).status == 200);

  for (auto bad :
       {R"({"faults":"5xx=2"})", R"({"quirks":"sideways"})", R"({"rate_limit":-1})",
        R"({"latency_ms":"fast"})", R"({"retry_after":"later"})", R"({"colour":"red"})", "[]"}) {
    res = post(em, "/__config", bad);
    CHECK_MESSAGE(res.status == 400, bad);
  }
  // A refused config changes nothing.
  res = rs_test::http_request(em.ep(), "GET", "/__config");
  CHECK(parse(res.body)["faults"].GetString() == std::string("none"));
}

TEST_CASE("HTTPS with the test CA; an untrusted certificate is refused") {
  emulator::options tls;
  tls.tls = true;
  emulator em(tls);
  CHECK(em.base_url().rfind("https://", 0) == 0);
  auto truth = truth_records(em, "users");
  CHECK(scan(em, "users", 50).records == truth);
  CHECK(em.get(paths.at("users"), false).status == 401);

  emulator::options untrusted;
  untrusted.tls = true;
  untrusted.untrusted_cert = true;
  emulator bad(untrusted);
  CHECK_THROWS_AS(bad.get(paths.at("users")), std::runtime_error);
}

TEST_CASE("command line: bad arguments exit 2 naming them; SIGTERM exits 0") {
  auto bin = (rs_test::bin_dir() / "analytics-emulator").string();
  struct bad_case {
    std::vector<std::string> args;
    std::string mentions;
  };
  for (auto& [args, mentions] : std::vector<bad_case>{
           {{"--api-key", "k"}, "--listen"},
           {{"--listen", "127.0.0.1:0"}, "--api-key"},
           {{"--listen", "127.0.0.1:99999", "--api-key", "k"}, "--listen"},
           {{"--listen", "127.0.0.1:0", "--api-key", "k", "--records", "x"}, "--records"},
           {{"--listen", "127.0.0.1:0", "--api-key", "k", "--records", "ghosts=3"}, "ghosts"},
           {{"--listen", "127.0.0.1:0", "--api-key", "k", "--faults", "5xx=1.5"}, "--faults"},
           {{"--listen", "127.0.0.1:0", "--api-key", "k", "--quirks", "odd"}, "--quirks"},
           {{"--listen", "127.0.0.1:0", "--api-key", "k", "--rate-limit", "fast"}, "--rate-limit"},
           {{"--listen", "127.0.0.1:0", "--api-key", "k", "--retry-after", "soon"},
            "--retry-after"},
           {{"--listen", "127.0.0.1:0", "--api-key", "k", "--latency-ms", "-3"}, "--latency-ms"},
           {{"--listen", "127.0.0.1:0", "--api-key", "k", "--page-cap", "0"}, "--page-cap"},
           {{"--listen", "127.0.0.1:0", "--api-key", "k", "--seed"}, "--seed"},
           {{"--listen", "127.0.0.1:0", "--api-key", "k", "--frobnicate"}, "--frobnicate"},
           {{"--listen", "127.0.0.1:0", "--api-key", "k", "--tls-cert", "/nonexistent", "--tls-key",
             "/nonexistent"},
            "--tls-cert"},
       }) {
    std::vector<std::string> argv{bin};
    argv.insert(argv.end(), args.begin(), args.end());
    rs_test::process p(argv);
    auto status = p.wait(10s);
    REQUIRE(status.has_value());
    CHECK_MESSAGE(*status == 2, args.back());
    CHECK_MESSAGE(p.stderr_text().find(mentions) != std::string::npos, p.stderr_text());
    CHECK(p.stdout_rest(1s).empty());
  }

  for (int sig : {SIGTERM, SIGINT}) {
    bool verbose = sig == SIGINT;
    std::vector<std::string> argv{bin, "--listen", "127.0.0.1:0", "--api-key", "k"};
    if (verbose) argv.push_back("--verbose");
    rs_test::process p(argv);
    auto line = p.read_line(10s);
    REQUIRE(line.has_value());
    CHECK(line->rfind("listening 127.0.0.1:", 0) == 0);
    rs_test::endpoint ep;
    ep.port = static_cast<unsigned short>(std::stoi(line->substr(line->rfind(':') + 1)));
    CHECK(rs_test::http_request(ep, "GET", "/v1/accounts", {{"api_key", "k"}}).status == 200);
    CHECK(p.stop(sig, 10s) == 0);
    // Requests are logged to stderr only when asked, and never the key.
    auto log = p.stderr_text();
    CHECK((log.find("GET /v1/accounts") != std::string::npos) == verbose);
    CHECK(log.find(" k ") == std::string::npos);
    CHECK(p.stdout_rest(1s).empty());
  }
}

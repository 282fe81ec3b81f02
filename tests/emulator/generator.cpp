#include "generator.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string_view>

#include "json_text.hpp"
#include "random.hpp"
#include "resources.hpp"

namespace emulator {
namespace {

constexpr std::int64_t epoch_base = 1'500'000'000;
constexpr std::int64_t time_step = 600;

const char* const first_names[] = {"Anna",  "José",    "Zoë",     "Łukasz",    "Søren",     "Mária",
                                   "Chloé", "Björn",   "Nguyễn",  "Oluwaseun", "Wei",       "Мария",
                                   "محمد",  "Hiroshi", "Siobhán", "D'Andre",   "Ana-Lucía", "Ølaf",
                                   "Priya", "Jürgen",  "Fatima",  "Kim",       "Renée",     "Ömer"};
const char* const last_names[] = {
    "Müller", "García",  "O'Connor", "Kowalski", "Dubois", "van der Berg", "Østergaard",
    "Smith",  "佐藤",    "Иванов",   "Nakamura", "Ndlovu", "Rossi",        "Çelik",
    "Nuñez",  "Lefèvre", "Schröder", "Park",     "Haddad", "Papadopoulos"};

// Strings that break naive escaping, encoding, storage or display.
const char* const nasty_strings[] = {
    "Robert'); DROP TABLE students;--",
    "She said \"hello\" and left",
    "C:\\Program Files\\Analytics\\new",
    "line one\nline two\r\nline three",
    "<script>alert(\"xss\")</script>",
    "tab\tseparated\tvalues",
    "emoji 🚀🔥💯 party 🎉",
    "family 👩‍👩‍👧‍👦 and flag 🇩🇪",
    "Ünïcödé façade — naïve café",
    "日本語のキャンペーン",
    "Кампания по-русски",
    "حملة عربية",
    "𝕱𝖗𝖆𝖐𝖙𝖚𝖗 math letters",
    "zero\u200bwidth space",
    "  padded  ",
    "",
    "null",
    "12345",
    "trailing backslash \\",
    "percent %s %d {0} ${env:HOME}",
    "bell \a and escape \x1b[31m",
    "line\u2028separator\u2029paragraph",
    "</script><img src=x onerror=alert(1)>",
    "a \"quoted\" \\\"escaped\\\" mess",
};

// Already-escaped JSON string literals: \u escapes, surrogate pairs, \/.
const char* const escaped_literals[] = {
    "\"caf\\u00e9 \\ud83d\\ude00 d\\u00e9j\\u00e0 vu\"",
    "\"path\\/with\\/escaped\\/slashes\"",
    "\"\\u65e5\\u672c \\u0041\\u0042\\u0043 \\t tab\"",
};

const char* const countries[] = {"Germany",       "India",      "United States", "Brasil",
                                 "Côte d'Ivoire", "日本",       "Россия",        "México",
                                 "Österreich",    "New Zealand"};
const char* const departments[] = {"Marketing",        "Growth",  "R&D",
                                   "Sales & Ops",      "Product", "Engineering",
                                   "Customer Success", "Data"};
const char* const permissions[] = {"admin", "editor", "viewer", "billing", "owner"};
const char* const titles[] = {"CRO Specialist",    "Head of Growth", "Product Manager",
                              "Marketing Analyst", "Développeuse",   "VP \"Experiments\"",
                              "Designer <UX>",     "Intern"};
const char* const campaign_types[] = {"VISUAL_AB", "SPLIT_URL", "MULTIVARIATE",
                                      "HEATMAP",   "SURVEY",    "FULLSTACK"};
const char* const platforms[] = {"website", "mobile-app", "server-side"};
const char* const app_platforms[] = {"ios", "android", "web", "react-native"};
const char* const statuses[] = {"RUNNING",     "PAUSED",   "STOPPED",
                                "NOT_STARTED", "ARCHIVED", "DELETED"};
const char* const goal_types[] = {"CUSTOM_CONVERSION", "REVENUE_TRACKING", "ENGAGEMENT",
                                  "VISIT_PAGE",        "FORM_SUBMIT",      "CLICK_ELEMENT"};
const char* const pages[] = {"Homepage",       "Checkout", "Pricing",          "Signup",
                             "Product detail", "Cart",     "Landing “Spring”", "Blog"};
const char* const ideas[] = {"hero image", "CTA colour",  "headline",     "social proof",
                             "free trial", "exit intent", "trust badges", "price anchor"};
const char* const feed_types[] = {"campaign", "account", "user", "goal", "integration"};
const char* const verbs[] = {"created", "updated", "started",  "paused",
                             "stopped", "deleted", "archived", "commented"};
const char* const widget_types[] = {"chart", "table", "funnel", "kpi", "heatmap", "note"};
const char* const label_names[] = {"Q1",      "Q2",           "Q3",    "Q4",           "mobile",
                                   "desktop", "priority",     "🔥 hot", "légal",        "EMEA",
                                   "APAC",    "black-friday", "a/b",   "needs review", "ライブ"};
const char* const regions[] = {"eu-west-1", "us-east-1", "ap-south-1", "sa-east-1", "eu-central-1"};
const char* const tiers[] = {"free", "growth", "pro", "enterprise"};

struct builder {
  builder(rapidjson::StringBuffer& out, rng& g, std::string_view drift_field)
      : out(out), w(out), g(g), drift_field(drift_field) {}
  // RapidJSON's own buffer: its writer takes a fast path for it.
  rapidjson::StringBuffer& out;
  rapidjson::Writer<rapidjson::StringBuffer> w;
  rng& g;
  std::string_view drift_field;
  std::uint32_t drift_pos = 0, drift_len = 0;
  std::string key_text;

  void key(std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
  void str(std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
  void raw(std::string_view s, rapidjson::Type t) { w.RawValue(s.data(), s.size(), t); }

  // Top-level fields are sometimes absent and sometimes null: the API promises
  // nothing but the key.
  template <class F>
  void field(std::string_view name, F&& write_value) {
    auto roll = g.below(100);
    if (roll < 3) return;
    key(name);
    if (roll < 6) {
      w.Null();
      return;
    }
    // The writer puts the ':' in front of the value.
    auto start = out.GetSize() + 1;
    write_value();
    if (name == drift_field && out.GetString()[start] != 'n') {
      drift_pos = static_cast<std::uint32_t>(start);
      drift_len = static_cast<std::uint32_t>(out.GetSize() - start);
    }
  }

  void int_key(std::string_view name, std::int64_t id) {
    key(name);
    w.Int64(id);
    key_text = std::to_string(id);
  }
  void string_key(std::string_view name, std::string id) {
    key(name);
    str(id);
    key_text = std::move(id);
  }

  // A mostly ordinary string that is now and then hostile.
  void text(std::string_view ordinary) {
    auto roll = g.below(100);
    if (roll < 7) {
      str(g.pick(nasty_strings));
    } else if (roll < 9) {
      raw(g.pick(escaped_literals), rapidjson::kStringType);
    } else {
      str(ordinary);
    }
  }

  std::string person() { return fmt::format("{} {}", g.pick(first_names), g.pick(last_names)); }
};

std::string image_url(std::uint64_t h) {
  return fmt::format("https://cdn.example.com/avatars/{:012x}.png?size=64&v={}",
                     h & 0xffffffffffffULL, h % 7);
}

std::string email_for(rng& g) {
  static const char* const locals[] = {"anna",         "jose.garcia",    "zoe+test", "lukasz",
                                       "s.ostergaard", "marketing-team", "o'connor", "wei.li"};
  static const char* const domains[] = {"example.com", "example.org", "exämple.de", "test.io"};
  return fmt::format("{}{}@{}", g.pick(locals), g.below(1000), g.pick(domains));
}

std::int64_t int_id(std::size_t resource, std::uint64_t seed, std::uint64_t serial) {
  static constexpr std::int64_t bases[] = {600'000, 0, 10'000, 0, 1'000, 5'000, 0, 0, 100};
  return bases[resource] + static_cast<std::int64_t>(serial) * 3 +
         static_cast<std::int64_t>(mix(seed, resource * 7 + 1, serial) % 3);
}

std::string uid_for(std::size_t resource, std::uint64_t seed, std::uint64_t serial) {
  auto a = mix(seed, resource, serial + 0x5eed);
  auto b = mix(a, 2);
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                     0x8000 | (b >> 48 & 0x3fff), b & 0xffffffffffffULL);
}

void write_stats(builder& b) {
  auto& g = b.g;
  auto& w = b.w;
  w.StartObject();
  auto visitors = g.between(0, 2'000'000);
  b.key("visitors");
  w.Int64(visitors);
  b.key("conversions");
  w.Int64(visitors / static_cast<std::int64_t>(g.between(5, 60)));
  b.key("conversionRate");
  w.Double(static_cast<double>(g.between(0, 100000)) / 1000.0);
  b.key("revenue");
  if (g.chance(20)) {
    b.str(fmt::format("{}.{:02}", g.between(0, 999999), g.between(0, 99)));
  } else {
    w.Double(static_cast<double>(g.between(0, 99999999)) / 100.0);
  }
  // Counters that only a loader keeping every digit gets right.
  b.key("impressions");
  if (g.chance(40)) {
    w.Uint64((1ULL << 53) + g.below(1ULL << 40));
  } else {
    w.Int64(g.between(0, 1'000'000'000));
  }
  if (g.chance(40)) {
    b.key("eventHash");
    w.Uint64((1ULL << 63) + g.below(1ULL << 62));
  }
  if (g.chance(25)) {
    b.key("lifetimeEvents");
    b.raw(fmt::format("{}{:019}", g.between(1, 99999), g.below(10'000'000'000'000'000'000ULL)),
          rapidjson::kNumberType);
  }
  if (g.chance(15)) {
    b.key("delta");
    w.Int64(-static_cast<std::int64_t>((1ULL << 53) + g.below(1ULL << 30)));
  }
  b.key("isSignificant");
  w.Bool(g.chance(30));
  b.key("confidence");
  if (g.chance(30)) {
    w.Null();
  } else {
    w.Double(static_cast<double>(5000 + g.below(5000)) / 10000.0);
  }
  if (g.chance(30)) {
    b.key("note");
    b.text("computed nightly");
  }
  w.EndObject();
}

void generate_accounts(builder& b, std::uint64_t seed, std::uint64_t serial, std::int64_t time) {
  auto& w = b.w;
  auto& g = b.g;
  b.int_key("id", int_id(accounts, seed, serial));
  b.field("createdOn", [&] { w.Int64(time); });
  b.field("name", [&] { b.text(fmt::format("{} {}", g.pick(last_names), "Analytics GmbH")); });
  b.field("isActive", [&] { w.Bool(g.chance(85)); });
  b.field("isEnabled", [&] { w.Bool(g.chance(90)); });
  b.field("isMainAccount", [&] { w.Bool(serial == 0); });
}

void generate_feed(builder& b, std::uint64_t seed, std::uint64_t serial, std::int64_t time) {
  auto& w = b.w;
  auto& g = b.g;
  b.string_key("id", key_for(accounts_feeds, seed, serial, time));
  b.field("when", [&] { w.Int64(time); });
  auto verb = g.pick(verbs);
  auto who = b.person();
  b.field("verb", [&] { b.str(verb); });
  b.field("what", [&] { b.text(fmt::format("{} {} the campaign", who, verb)); });
  b.field("campaign", [&] {
    w.StartObject();
    b.key("id");
    w.Int64(int_id(campaigns, seed, g.below(serial + 1)));
    b.key("name");
    b.text(fmt::format("{} {} test", g.pick(pages), g.pick(ideas)));
    b.key("type");
    b.str(g.pick(campaign_types));
    b.key("platform");
    b.str(g.pick(platforms));
    b.key("appPlatform");
    if (g.chance(50)) {
      w.Null();
    } else {
      b.str(g.pick(app_platforms));
    }
    b.key("goalId");
    w.Int64(g.between(1, 40));
    w.EndObject();
  });
  b.field("who", [&] {
    w.StartObject();
    b.key("id");
    w.Int64(int_id(users, seed, g.below(200)));
    b.key("name");
    b.str(who);
    b.key("imageUrl");
    b.str(image_url(g.next()));
    w.EndObject();
  });
  b.field("type", [&] { b.str(g.pick(feed_types)); });
}

void generate_users(builder& b, std::uint64_t seed, std::uint64_t serial, std::int64_t time,
                    std::int64_t& latest) {
  auto& w = b.w;
  auto& g = b.g;
  b.int_key("id", int_id(users, seed, serial));
  b.field("createdOn", [&] { w.Int64(time); });
  b.field("lastLogin", [&] {
    if (g.chance(10)) {
      w.Null();
    } else {
      latest = time + g.between(0, 30 * 86400);
      w.Int64(latest);
    }
  });
  b.field("country", [&] { b.str(g.pick(countries)); });
  b.field("department", [&] { b.text(g.pick(departments)); });
  b.field("email", [&] { b.str(email_for(g)); });
  b.field("name", [&] { b.text(b.person()); });
  b.field("permission", [&] { b.str(g.pick(permissions)); });
  b.field("phone", [&] {
    if (g.chance(50)) {
      b.str(fmt::format("+{} {} {}", g.between(1, 99), g.between(10, 999),
                        g.between(100000, 9999999)));
    } else {
      b.str(fmt::format("({}) {}-{:04}", g.between(200, 999), g.between(200, 999), g.below(10000)));
    }
  });
  b.field("title", [&] { b.text(g.pick(titles)); });
  b.field("account", [&] {
    if (g.chance(5)) {
      w.Uint64((1ULL << 53) + g.below(1000));
    } else {
      w.Int64(int_id(accounts, seed, g.below(3)));
    }
  });
}

void generate_campaigns(builder& b, std::uint64_t seed, std::uint64_t serial, std::int64_t time) {
  auto& w = b.w;
  auto& g = b.g;
  b.int_key("id", int_id(campaigns, seed, serial));
  b.field("createdOn", [&] { w.Int64(time); });
  b.field("type", [&] { b.str(g.pick(campaign_types)); });
  b.field("name", [&] { b.text(fmt::format("{} {} #{}", g.pick(pages), g.pick(ideas), serial)); });
  b.field("platform", [&] { b.str(g.pick(platforms)); });
  std::string_view status = g.pick(statuses);
  b.field("status", [&] { b.str(status); });
  b.field("isApprovalPending", [&] { w.Bool(g.chance(10)); });
  b.field("isBayesian", [&] { w.Bool(g.chance(60)); });
  b.field("isDeleted", [&] { w.Bool(status == "DELETED"); });
  b.field("createdBy", [&] {
    w.StartObject();
    b.key("id");
    w.Int64(int_id(users, seed, g.below(200)));
    b.key("name");
    b.text(b.person());
    b.key("imageUrl");
    b.str(image_url(g.next()));
    w.EndObject();
  });
  b.field("labels", [&] {
    w.StartArray();
    for (auto n = g.below(4); n > 0; --n) {
      w.StartObject();
      b.key("id");
      w.Int64(int_id(labels, seed, g.below(55)));
      b.key("name");
      b.str(g.pick(label_names));
      w.EndObject();
    }
    w.EndArray();
  });
  auto goal_count = g.between(1, 3);
  b.field("goals", [&] {
    w.StartObject();
    b.key("offset");
    w.Int(0);
    b.key("totalCount");
    w.Int64(goal_count);
    b.key("partialCollection");
    w.StartArray();
    for (std::int64_t i = 0; i < goal_count; ++i) {
      w.StartObject();
      b.key("id");
      w.Int64(i + 1);
      b.key("name");
      b.text(fmt::format("{} reached", g.pick(pages)));
      b.key("type");
      b.str(g.pick(goal_types));
      b.key("isPrimary");
      w.Bool(i == 0);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
  b.field("variations", [&] {
    auto count = g.between(2, 3);
    w.StartObject();
    b.key("totalCount");
    w.Int64(count);
    b.key("partialCollection");
    w.StartArray();
    for (std::int64_t i = 0; i < count; ++i) {
      w.StartObject();
      b.key("id");
      w.Int64(i + 1);
      b.key("name");
      if (i == 0) {
        b.str("Control");
      } else {
        b.text(fmt::format("Variation-{}", i));
      }
      b.key("percentSplit");
      w.Double(100.0 / static_cast<double>(count));
      b.key("isDisabled");
      w.Bool(g.chance(5));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
  b.field("stats", [&] { write_stats(b); });
  b.field("associatedCampaign", [&] {
    w.StartArray();
    if (serial > 0 && g.chance(10)) w.Int64(int_id(campaigns, seed, g.below(serial)));
    w.EndArray();
  });
  b.field("campaignGroup", [&] {
    w.StartArray();
    if (g.chance(10)) {
      w.StartObject();
      b.key("id");
      w.Int64(g.between(1, 20));
      b.key("name");
      b.text("Seasonal group");
      w.EndObject();
    }
    w.EndArray();
  });
  b.field("primaryGoal", [&] { w.Int64(goal_count > 0 ? 1 : 0); });
}

void generate_widgets(builder& b, std::uint64_t seed, std::uint64_t serial, std::int64_t time,
                      std::int64_t& latest) {
  auto& w = b.w;
  auto& g = b.g;
  b.int_key("id", int_id(custom_widgets, seed, serial));
  b.field("createdAt", [&] { w.Int64(time); });
  b.field("updatedAt", [&] {
    latest = time + g.between(0, time_step - 1);
    w.Int64(latest);
  });
  auto type = g.pick(widget_types);
  b.field("type", [&] { b.str(type); });
  b.field("name", [&] { b.text(fmt::format("{} {} {}", g.pick(pages), type, serial)); });
  b.field("description", [&] {
    b.text(fmt::format("Shows {} for the {} page.\nUpdated weekly.", g.pick(ideas), g.pick(pages)));
  });
  b.field("createdBy", [&] { b.text(email_for(g)); });
}

void generate_labels(builder& b, std::uint64_t seed, std::uint64_t serial) {
  b.int_key("id", int_id(labels, seed, serial));
  b.field("name", [&] { b.text(fmt::format("{} {}", b.g.pick(label_names), serial)); });
}

void generate_smartcode(builder& b, std::uint64_t seed, std::uint64_t serial) {
  auto account = int_id(accounts, seed, 0);
  b.string_key("uid", uid_for(smartcode, seed, serial));
  b.field("async", [&] {
    b.str(fmt::format(
        "<!-- Start Analytics Async SmartCode -->\n"
        "<link rel=\"preconnect\" href=\"https://dev.example.com\" />\n"
        "<script type='text/javascript' id='analytics-code'>\n"
        "window._an_code || (function() {{\n"
        "var account_id={},\n"
        "version=2.{},\n"
        "settings_tolerance=2000,\n"
        "hide_element='body',\n"
        "hide_element_style = 'opacity:0 !important;filter:alpha(opacity=0) !important';\n"
        "/* \"double\" and 'single' quotes, a \\\\ backslash, </script> in a string */\n"
        "var f=false,w=window,d=document,v=d.querySelector('#analytics-code');\n"
        "}})();\n"
        "</script>\n"
        "<!-- End Analytics Async SmartCode -->",
        account, b.g.below(10)));
  });
  b.field("sync", [&] {
    b.str(fmt::format(
        "<script src=\"https://dev.example.com/lib/{}.js\" type=\"text/javascript\"></script>\n"
        "<script>var _an_settings = {{\"tolerance\": 2500, \"ünicode\": \"✓\"}};</script>",
        account));
  });
}

void generate_thresholds(builder& b, std::uint64_t seed, std::uint64_t serial) {
  auto& w = b.w;
  auto& g = b.g;
  b.string_key("uid", uid_for(thresholds, seed, serial));
  b.field("losingPercent", [&] { w.Double(static_cast<double>(g.between(1, 200)) / 10.0); });
  b.field("winningPercent", [&] { w.Double(static_cast<double>(g.between(800, 999)) / 10.0); });
  b.field("visitors", [&] { w.Int64(g.between(100, 100000)); });
}

void generate_integrations(builder& b, std::uint64_t seed, std::uint64_t serial) {
  auto& w = b.w;
  auto& g = b.g;
  b.string_key("uid", uid_for(integrations, seed, serial));
  b.field("isGaPremium", [&] { w.Bool(g.chance(20)); });
  b.field("clicktale", [&] {
    w.StartObject();
    b.key("enabled");
    w.Bool(g.chance(30));
    w.EndObject();
  });
  b.field("ga", [&] {
    w.StartObject();
    b.key("enabled");
    w.Bool(g.chance(70));
    b.key("prefix");
    b.str("AN");
    b.key("slot");
    w.Int64(g.between(1, 20));
    w.EndObject();
  });
  b.field("gtm", [&] {
    w.StartObject();
    b.key("enabled");
    w.Bool(g.chance(50));
    w.EndObject();
  });
  b.field("ua", [&] {
    w.StartObject();
    b.key("enabled");
    w.Bool(g.chance(40));
    b.key("prefix");
    b.str("an_ua");
    b.key("dimension");
    w.Int64(g.between(1, 200));
    w.EndObject();
  });
}

std::string_view find_top_level(std::string_view json, std::string_view name, std::size_t& pos) {
  auto members = split_object(json);
  if (!members) return {};
  for (auto& m : *members)
    if (m.key == name) {
      pos = static_cast<std::size_t>(m.raw_value.data() - json.data());
      return m.raw_value;
    }
  return {};
}

}  // namespace

std::int64_t timestamp_for(std::size_t resource, std::uint64_t seed, std::uint64_t serial) {
  return epoch_base + static_cast<std::int64_t>(serial) * time_step +
         static_cast<std::int64_t>(mix(seed, resource * 7 + 2, serial) % time_step);
}

std::string key_for(std::size_t resource, std::uint64_t seed, std::uint64_t serial,
                    std::int64_t time) {
  if (resource == accounts_feeds) {
    auto h = mix(seed, accounts_feeds, serial);
    return fmt::format("{:08x}{:010x}{:06x}", static_cast<std::uint64_t>(time) & 0xffffffffULL,
                       h & 0xffffffffffULL, serial & 0xffffff);
  }
  if (resources()[resource].key_kind == key_type::string) return uid_for(resource, seed, serial);
  return std::to_string(int_id(resource, seed, serial));
}

record generate_record(std::size_t resource, std::uint64_t seed, std::uint64_t serial,
                       std::int64_t time, std::int64_t* latest) {
  rng g(mix(seed, resource, serial));
  thread_local rapidjson::StringBuffer buffer;
  buffer.Clear();
  builder b(buffer, g, resources()[resource].drift_field);
  std::int64_t newest = time;
  b.w.StartObject();
  switch (resource) {
    case accounts:
      generate_accounts(b, seed, serial, time);
      break;
    case accounts_feeds:
      generate_feed(b, seed, serial, time);
      break;
    case users:
      generate_users(b, seed, serial, time, newest);
      break;
    case smartcode:
      generate_smartcode(b, seed, serial);
      break;
    case campaigns:
      generate_campaigns(b, seed, serial, time);
      break;
    case custom_widgets:
      generate_widgets(b, seed, serial, time, newest);
      break;
    case thresholds:
      generate_thresholds(b, seed, serial);
      break;
    case integrations:
      generate_integrations(b, seed, serial);
      break;
    case labels:
      generate_labels(b, seed, serial);
      break;
    default:
      break;
  }
  b.w.EndObject();

  record r;
  r.json.assign(buffer.GetString(), buffer.GetSize());
  r.key = std::move(b.key_text);
  r.serial = serial;
  r.when = time;
  r.drift_pos = b.drift_pos;
  r.drift_len = b.drift_len;
  if (latest) *latest = newest;
  return r;
}

void locate_drift(std::size_t resource, record& r) {
  r.drift_pos = r.drift_len = 0;
  auto name = resources()[resource].drift_field;
  if (name.empty()) return;
  std::size_t pos = 0;
  auto value = find_top_level(r.json, name, pos);
  if (value.empty() || kind_of(value) == json_kind::null) return;
  r.drift_pos = static_cast<std::uint32_t>(pos);
  r.drift_len = static_cast<std::uint32_t>(value.size());
}

std::vector<std::pair<std::string, std::string>> generated_change(std::size_t resource,
                                                                  std::uint64_t seed,
                                                                  const record& r,
                                                                  std::uint64_t change_no,
                                                                  std::int64_t now) {
  rng g(mix(seed, resource * 131 + 17, mix(r.serial, change_no)));
  std::vector<std::pair<std::string, std::string>> fields;
  auto edited = [&](std::string_view what) {
    return quote(fmt::format("{} (edit {})", what, change_no));
  };
  switch (resource) {
    case accounts:
      fields.emplace_back("name", edited(fmt::format("{} Analytics", g.pick(last_names))));
      fields.emplace_back("isActive", g.chance(50) ? "true" : "false");
      break;
    case accounts_feeds:
      fields.emplace_back("what", edited(g.pick(ideas)));
      break;
    case users:
      fields.emplace_back("lastLogin", std::to_string(now));
      fields.emplace_back("title", edited(g.pick(titles)));
      break;
    case campaigns: {
      std::string_view status = g.pick(statuses);
      fields.emplace_back("status", quote(status));
      fields.emplace_back("isDeleted", status == "DELETED" ? "true" : "false");
      fields.emplace_back("name", edited(fmt::format("{} {}", g.pick(pages), g.pick(ideas))));
      break;
    }
    case custom_widgets:
      fields.emplace_back("name", edited(g.pick(widget_types)));
      fields.emplace_back("updatedAt", std::to_string(now));
      break;
    case labels:
      fields.emplace_back("name", edited(g.pick(label_names)));
      break;
    case smartcode:
      fields.emplace_back("sync",
                          quote(fmt::format("<script src=\"/lib/{}.js\"></script>", change_no)));
      break;
    case thresholds:
      fields.emplace_back("visitors", std::to_string(g.between(100, 100000)));
      break;
    case integrations:
      fields.emplace_back("isGaPremium", g.chance(50) ? "true" : "false");
      fields.emplace_back("gtm", g.chance(50) ? "{\"enabled\":true}" : "{\"enabled\":false}");
      break;
    default:
      break;
  }
  return fields;
}

void append_late(std::string& out, std::size_t resource, std::uint64_t seed, const record& r) {
  std::string_view json = r.json;
  auto h = mix(seed, resource * 31 + 5, r.serial);
  rng g(h);
  if (r.drift_len > 0) {
    auto value = json.substr(r.drift_pos, r.drift_len);
    out.append(json.substr(0, r.drift_pos));
    auto kind = kind_of(value);
    switch (resource) {
      case accounts:
        if (kind == json_kind::boolean) {
          out += '"';
          out += value;
          out += '"';
        } else {
          out += value;
        }
        break;
      // Each drift keeps the value's content, so that later edits stay visible.
      case accounts_feeds:
        if (kind == json_kind::string) {
          out += '[';
          out += value;
          out += ']';
        } else {
          out += value;
        }
        break;
      case labels:
        if (kind == json_kind::string) {
          out += "{\"text\":";
          out += value;
          out += '}';
        } else {
          out += value;
        }
        break;
      case users:
        if (kind == json_kind::number) {
          out += "\"acct-";
          out += value;
          out += '"';
        } else {
          out += value;
        }
        break;
      case campaigns:
        out += value;
        if (is_integer_literal(value)) out += ".5";
        break;
      case custom_widgets:
        if (kind == json_kind::string) {
          out += "{\"email\":";
          out += value;
          out += '}';
        } else {
          out += value;
        }
        break;
      default:
        out += value;
        break;
    }
    out.append(json.substr(r.drift_pos + r.drift_len, json.size() - 1 - r.drift_pos - r.drift_len));
  } else {
    out.append(json.substr(0, json.size() - 1));
  }
  out += ",\"region\":";
  if (g.chance(10)) {
    out += "null";
  } else {
    out += '"';
    out += g.pick(regions);
    out += '"';
  }
  out += fmt::format(",\"score\":{}.{:03}", g.below(100), g.below(1000));
  out += fmt::format(",\"meta\":{{\"tier\":\"{}\",\"flags\":[\"beta\",\"sso\"],\"since\":{}}}}}",
                     g.pick(tiers), r.when);
}

}  // namespace emulator

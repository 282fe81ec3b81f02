#include "restsync/observe/status_report.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>

#include "restsync/config/duration.hpp"

namespace restsync {

bool is_stale(const resource_status& r) {
  if (!r.configured || !r.max_age) return false;
  if (!r.age_seconds) return true;
  return *r.age_seconds * 1000.0 > static_cast<double>(r.max_age->count());
}

std::string_view state_of(const resource_status& r) {
  if (!r.configured) return "not configured";
  if (r.last_run && r.last_run->status == "running") return "running";
  if (is_stale(r)) return "stale";
  if (r.last_run && r.last_run->status != "succeeded") return "failing";
  if (!r.last_success_at) return "never synced";
  return "ok";
}

std::string format_age(double seconds) {
  auto s = static_cast<std::int64_t>(std::llround(std::max(0.0, seconds)));
  struct unit {
    std::int64_t size;
    const char* suffix;
  };
  constexpr unit units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  std::string out;
  int shown = 0;
  for (const auto& u : units) {
    if (shown == 2) break;
    const auto n = s / u.size;
    if (n == 0 && shown == 0) continue;
    s -= n * u.size;
    if (n > 0) out += fmt::format("{}{}", n, u.suffix);
    ++shown;
  }
  return out.empty() ? "0s" : out;
}

namespace {

std::string or_dash(const std::optional<std::string>& s) { return s ? *s : "-"; }

std::string last_run_text(const std::optional<run_row>& run) {
  if (!run) return "-";
  std::string out = run->status;
  if (run->seconds)
    out += (run->status == "running" ? " for " : " in ") + format_age(*run->seconds);
  out += fmt::format(": {} records, +{} ~{} ={}", run->counts.records, run->counts.inserted,
                     run->counts.updated, run->counts.unchanged);
  if (run->instance) out += " on " + *run->instance;
  return out;
}

// The gate's rate as the newest finished run left it: the gate is shared by
// every resource of the process, so the newest run tells the latest.
struct gate_reading {
  std::string resource;
  std::int64_t run = 0;
  double rate = 0;
};

std::optional<gate_reading> latest_gate_rate(const std::vector<resource_status>& resources) {
  std::optional<gate_reading> out;
  for (const auto& r : resources) {
    if (!r.last_run || !r.last_run->gate_rate) continue;
    if (!out || r.last_run->id > out->run) out = {r.name, r.last_run->id, *r.last_run->gate_rate};
  }
  return out;
}

}  // namespace

std::string format_status_table(const std::vector<resource_status>& resources,
                                std::string_view schema) {
  const std::vector<std::string> header = {
      "RESOURCE", "STATE", "LAST SUCCESS (UTC)", "AGE", "MAX AGE", "ROWS", "CURSOR", "LAST RUN"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : resources) {
    rows.push_back({r.name, std::string(state_of(r)), or_dash(r.last_success_at),
                    r.age_seconds ? format_age(*r.age_seconds) : "-",
                    r.max_age ? format_duration(*r.max_age) : "-",
                    r.rows ? std::to_string(*r.rows) : "-", or_dash(r.cursor),
                    last_run_text(r.last_run)});
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  std::string out = fmt::format("schema {}: {} resource{}\n", schema, resources.size(),
                                resources.size() == 1 ? "" : "s");
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c + 1 == cells.size())
        l += cells[c];
      else
        l += fmt::format("{:<{}}  ", cells[c], width[c]);
    }
    out += l + "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
  if (auto latest = latest_gate_rate(resources)) {
    out += fmt::format("\nrate gate at the end of the latest run ({}, run {}): {}\n",
                       latest->resource, latest->run,
                       latest->rate > 0 ? fmt::format("{:.3g} requests/s", latest->rate)
                                        : std::string("no limit"));
  }
  bool first = true;
  for (const auto& r : resources) {
    if (!r.last_run || r.last_run->status == "succeeded" || r.last_run->status == "running")
      continue;
    if (first) out += "\nlast errors:\n";
    first = false;
    const std::string& why = r.last_run->error ? *r.last_run->error
                             : r.last_error    ? *r.last_error
                                               : r.last_run->status;
    out += fmt::format("  {} ({}): {}\n", r.name,
                       r.last_run->finished_at.value_or(r.last_run->started_at), why);
  }
  return out;
}

std::string format_status_json(const std::vector<resource_status>& resources,
                               std::string_view schema) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  auto opt_str = [&](const char* key, const std::optional<std::string>& v) {
    w.Key(key);
    if (v)
      str(*v);
    else
      w.Null();
  };
  w.StartObject();
  w.Key("schema");
  str(schema);
  w.Key("stale");
  w.Bool(std::any_of(resources.begin(), resources.end(), is_stale));
  w.Key("gate_rate");
  if (auto latest = latest_gate_rate(resources))
    w.Double(latest->rate);
  else
    w.Null();
  w.Key("resources");
  w.StartArray();
  for (const auto& r : resources) {
    w.StartObject();
    w.Key("resource");
    str(r.name);
    w.Key("state");
    str(state_of(r));
    w.Key("configured");
    w.Bool(r.configured);
    w.Key("stale");
    w.Bool(is_stale(r));
    opt_str("last_success_at", r.last_success_at);
    w.Key("age_seconds");
    if (r.age_seconds)
      w.Double(*r.age_seconds);
    else
      w.Null();
    w.Key("max_age_seconds");
    if (r.max_age)
      w.Double(static_cast<double>(r.max_age->count()) / 1000.0);
    else
      w.Null();
    opt_str("last_error_at", r.last_error_at);
    opt_str("last_error", r.last_error);
    opt_str("last_complete_scan_at", r.last_complete_scan_at);
    opt_str("cursor", r.cursor);
    for (auto [key, value] :
         {std::pair{"rows", &r.rows}, std::pair{"deleted_rows", &r.deleted_rows}}) {
      w.Key(key);
      if (*value)
        w.Int64(**value);
      else
        w.Null();
    }
    opt_str("lease_holder", r.lease_holder);
    w.Key("last_run");
    if (!r.last_run) {
      w.Null();
    } else {
      const auto& run = *r.last_run;
      w.StartObject();
      w.Key("id");
      w.Int64(run.id);
      w.Key("status");
      str(run.status);
      w.Key("started_at");
      str(run.started_at);
      opt_str("finished_at", run.finished_at);
      w.Key("seconds");
      if (run.seconds)
        w.Double(*run.seconds);
      else
        w.Null();
      const std::pair<const char*, std::int64_t> counts[] = {
          {"pages", run.counts.pages},         {"records", run.counts.records},
          {"inserted", run.counts.inserted},   {"updated", run.counts.updated},
          {"unchanged", run.counts.unchanged}, {"requests", run.counts.requests},
          {"retries", run.counts.retries},     {"rate_limited", run.counts.rate_limited},
          {"deleted", run.counts.deleted},     {"rescans", run.counts.rescans},
          {"ignored", run.counts.ignored}};
      for (const auto& [k, v] : counts) {
        w.Key(k);
        w.Int64(v);
      }
      w.Key("complete_scan");
      w.Bool(run.complete_scan);
      opt_str("error", run.error);
      w.Key("gate_rate");
      if (run.gate_rate)
        w.Double(*run.gate_rate);
      else
        w.Null();
      opt_str("instance", run.instance);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace restsync

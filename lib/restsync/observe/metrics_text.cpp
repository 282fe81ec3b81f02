#include "restsync/observe/metrics_text.hpp"

#include <fmt/format.h>

#include <functional>

namespace restsync {

namespace {

double unix_seconds(wall_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

class writer {
 public:
  explicit writer(const run_ledger& l) : ledger_(l) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                   type);
  }
  void sample(std::string_view name, std::string_view labels, double value) {
    fmt::format_to(std::back_inserter(out_), "{}{}{}{} {}\n", name, labels.empty() ? "" : "{",
                   labels, labels.empty() ? "" : "}", value);
  }
  // One sample per resource; value returns nullopt to leave a resource out.
  void per_resource(std::string_view name, std::string_view type, std::string_view help,
                    const std::function<std::optional<double>(const resource_record&)>& value,
                    std::string_view extra_label = {}) {
    family(name, type, help);
    for (const auto& r : ledger_.resources()) {
      if (auto v = value(r)) sample(name, labels(r, extra_label), *v);
    }
  }
  // A counter per resource from the ledger's totals since start-up.
  template <class T>
  void total(std::string_view name, std::string_view help, T run_counters::*field) {
    per_resource(name, "counter", help, [field](const resource_record& r) {
      return std::optional<double>(static_cast<double>(r.totals.*field));
    });
  }
  static std::string labels(const resource_record& r, std::string_view extra = {}) {
    std::string l = fmt::format("resource=\"{}\"", prometheus_label(r.name));
    if (!extra.empty()) l += fmt::format(",{}", extra);
    return l;
  }
  std::string take() { return std::move(out_); }

 private:
  const run_ledger& ledger_;
  std::string out_;
};

}  // namespace

std::string prometheus_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

std::string render_metrics(const run_ledger& ledger, const live_stats& live,
                           const process_stats& process, wall_clock::time_point now) {
  writer w(ledger);
  auto d = [](std::int64_t v) { return std::optional<double>(static_cast<double>(v)); };

  w.per_resource("restsync_last_success_timestamp_seconds", "gauge",
                 "Unix time of the resource's last successful run (from the database at start-up)",
                 [](const resource_record& r) -> std::optional<double> {
                   if (!r.last_success) return std::nullopt;
                   return unix_seconds(*r.last_success);
                 });
  w.per_resource("restsync_stale", "gauge",
                 "1 when the last success is older than the resource's max_age",
                 [&](const resource_record& r) -> std::optional<double> {
                   if (!r.max_age) return std::nullopt;
                   return ledger.stale(r, now) ? 1.0 : 0.0;
                 });
  w.per_resource("restsync_running", "gauge", "1 while a run of the resource is in progress",
                 [](const resource_record& r) { return std::optional<double>(r.running); });
  w.per_resource("restsync_consecutive_failures", "gauge",
                 "Failed runs since the resource's last success",
                 [&](const resource_record& r) { return d(r.consecutive_failures); });
  w.per_resource("restsync_last_run_duration_seconds", "gauge",
                 "Duration of the resource's last finished run",
                 [](const resource_record& r) -> std::optional<double> {
                   if (!r.last) return std::nullopt;
                   return r.last->counts.seconds;
                 });

  w.family("restsync_run_duration_seconds", "summary", "Durations of finished runs");
  for (const auto& r : ledger.resources()) {
    w.sample("restsync_run_duration_seconds_sum", writer::labels(r), r.totals.seconds);
    w.sample("restsync_run_duration_seconds_count", writer::labels(r),
             static_cast<double>(r.runs_succeeded + r.runs_failed));
  }
  w.family("restsync_runs_total", "counter", "Finished runs by result");
  for (const auto& r : ledger.resources()) {
    w.sample("restsync_runs_total", writer::labels(r, "result=\"succeeded\""),
             static_cast<double>(r.runs_succeeded));
    w.sample("restsync_runs_total", writer::labels(r, "result=\"failed\""),
             static_cast<double>(r.runs_failed));
  }
  w.family("restsync_records_total", "counter",
           "Records received, by what the upsert did with them");
  for (const auto& r : ledger.resources()) {
    w.sample("restsync_records_total", writer::labels(r, "outcome=\"inserted\""),
             static_cast<double>(r.totals.inserted));
    w.sample("restsync_records_total", writer::labels(r, "outcome=\"updated\""),
             static_cast<double>(r.totals.updated));
    w.sample("restsync_records_total", writer::labels(r, "outcome=\"unchanged\""),
             static_cast<double>(r.totals.unchanged));
  }
  w.total("restsync_records_filtered_total",
          "Records received that an incremental cursor or end_value left out",
          &run_counters::filtered);
  w.total("restsync_rows_deleted_total",
          "Rows a complete scan no longer saw, marked deleted (or deleted: hard_delete)",
          &run_counters::deleted);
  w.total("restsync_rescans_total", "Offset scans repeated because the data moved while they paged",
          &run_counters::rescans);
  w.total("restsync_pages_total", "Pages committed", &run_counters::pages);
  w.total("restsync_requests_total", "HTTP requests sent, retries included",
          &run_counters::requests);
  w.family("restsync_responses_total", "counter", "HTTP responses received, by status code");
  for (const auto& r : ledger.resources()) {
    for (const auto& [status, n] : r.totals.responses_by_status)
      w.sample("restsync_responses_total", writer::labels(r, fmt::format("status=\"{}\"", status)),
               static_cast<double>(n));
  }
  w.total("restsync_transport_errors_total",
          "Requests that got no complete response (connect, timeout, reset, TLS, body)",
          &run_counters::transport_errors);
  w.total("restsync_retries_total",
          "Requests retried after an error (5xx, transport failure, malformed body)",
          &run_counters::retries);
  w.total("restsync_rate_limited_total",
          "429 responses waited out (they pause every request of the process)",
          &run_counters::rate_limited);
  w.total("restsync_ignored_responses_total",
          "Responses that endpoint.response_actions ignores (each ended a scan early)",
          &run_counters::ignored);
  w.total("restsync_gate_wait_seconds_total",
          "Time requests waited for the shared rate gate (client.rate_limit, 429 pauses)",
          &run_counters::gate_wait_seconds);
  w.total("restsync_memory_wait_seconds_total",
          "Time requests waited for room in client.memory_budget before being sent",
          &run_counters::memory_wait_seconds);
  w.per_resource("restsync_requests_in_flight", "gauge",
                 "Requests sent and not answered yet, at the time of the scrape",
                 [&](const resource_record& r) {
                   auto it = live.in_flight.find(r.name);
                   return d(it == live.in_flight.end() ? 0 : it->second);
                 });

  if (live.gate_allowed_rate) {
    w.family("restsync_gate_allowed_requests_per_second", "gauge",
             "Requests per second the shared rate gate allows now: client.rate_limit, or less "
             "as learned from 429s; 0: no limit");
    w.sample("restsync_gate_allowed_requests_per_second", "", *live.gate_allowed_rate);
  }
  if (live.gate_configured_rate) {
    w.family("restsync_gate_configured_requests_per_second", "gauge",
             "client.rate_limit.requests_per_second (this daemon's share of it when several "
             "share the database), the most the shared rate gate allows; 0: no limit");
    w.sample("restsync_gate_configured_requests_per_second", "", *live.gate_configured_rate);
  }

  if (!live.instance.empty()) {
    w.family("restsync_instance_info", "gauge",
             "This daemon's name (daemon.instance) among the daemons sharing the database, as "
             "_rs_runs.instance and _rs_leases.holder have it");
    w.sample("restsync_instance_info", "instance=\"" + prometheus_label(live.instance) + "\"", 1);
  }

  w.family("restsync_config_reloads_total", "counter", "SIGHUP reloads by result");
  w.sample("restsync_config_reloads_total", "result=\"applied\"",
           static_cast<double>(ledger.reloads_ok()));
  w.sample("restsync_config_reloads_total", "result=\"refused\"",
           static_cast<double>(ledger.reloads_failed()));

  w.family("process_start_time_seconds", "gauge", "Unix time the daemon started");
  w.sample("process_start_time_seconds", "", unix_seconds(ledger.started_at()));
  if (process.resident_bytes) {
    w.family("process_resident_memory_bytes", "gauge", "Resident set size");
    w.sample("process_resident_memory_bytes", "", static_cast<double>(*process.resident_bytes));
  }
  if (process.open_fds) {
    w.family("process_open_fds", "gauge", "Open file descriptors");
    w.sample("process_open_fds", "", static_cast<double>(*process.open_fds));
  }
  return w.take();
}

}  // namespace restsync

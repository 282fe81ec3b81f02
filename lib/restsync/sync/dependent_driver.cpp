// A dependent resource's run (config's parent_config): its parent's live
// rows read from the parent's table, one scan per row with the row's values
// in the request, several at once within max_in_flight, each with its own
// state, cursor and deletions; one run row that adds them up.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "restsync/config/placeholders.hpp"
#include "restsync/sync/engine_impl.hpp"

namespace restsync::sync {

namespace {

// Parent scans a run's summary lists by value, at most.
constexpr std::size_t failures_listed = 5;

std::string json_text(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

// A parent value as a request puts it: a string's text, a number's or a
// boolean's JSON text; nullopt for null, objects and arrays.
std::optional<std::string> request_text(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsBool() || v.IsNumber()) return json_text(v);
  return std::nullopt;
}

struct scopes_made {
  std::vector<std::unique_ptr<parent_scope>> scopes;
  std::int64_t skipped = 0;  // rows whose values cannot fill a request
  std::string skipped_example;
};

// One scope per parent row: values holds each of p.fields' JSON text.
scopes_made make_scopes(const config& cfg, const resource_config& rc,
                        const std::vector<std::vector<std::optional<std::string>>>& rows) {
  const auto& p = *rc.parent;
  scopes_made out;
  std::set<std::string> seen;
  for (const auto& row : rows) {
    auto s = std::make_unique<parent_scope>();
    s->fields.SetObject();
    auto& alloc = s->fields.GetAllocator();
    std::map<std::string, std::string, std::less<>> text;  // field → request text
    bool usable = true;
    for (std::size_t i = 0; i < p.fields.size() && usable; ++i) {
      const auto& field = p.fields[i];
      const bool keyed = std::any_of(p.placeholders.begin(), p.placeholders.end(),
                                     [&](const auto& ph) { return ph.field == field; });
      rapidjson::Document value;
      if (row[i]) value.Parse(row[i]->c_str());
      if (keyed) {
        auto t = row[i] ? request_text(value) : std::nullopt;
        if (!t) {
          usable = false;
          if (out.skipped_example.empty())
            out.skipped_example = fmt::format("{}.{} is {}", p.resource, field,
                                              row[i] ? *row[i] : std::string("null"));
          break;
        }
        text[field] = *t;
        for (const auto& ph : p.placeholders)
          if (ph.field == field && ph.name.starts_with("resources."))
            s->body_values[ph.name] = body_value{*t, value.IsNumber()};
      }
      rapidjson::Value name(p.column_of(field).c_str(), alloc);
      rapidjson::Value copy;  // null
      if (row[i]) copy.CopyFrom(value, alloc);
      s->fields.AddMember(name, copy, alloc);
    }
    if (!usable) {
      ++out.skipped;
      continue;
    }
    auto by_name = [&](std::string_view name, bool in_path) -> std::optional<std::string> {
      for (const auto& ph : p.placeholders)
        if (ph.name == name) return in_path ? path_segment(text[ph.field]) : text[ph.field];
      // Not a parent's placeholder (`{incremental.start_value}`): kept for later.
      return fmt::format("{{{}}}", name);
    };
    s->endpoint = rc.endpoint;
    s->endpoint.path = fill_placeholders(rc.endpoint.path, [&](std::string_view n) {
                         return by_name(n, true);
                       }).value_or(rc.endpoint.path);
    for (auto& [name, value] : s->endpoint.params)
      if (value.find("{resources.") != std::string::npos)
        value = fill_placeholders(value, [&](std::string_view n) {
                  return by_name(n, false);
                }).value_or(value);
    s->endpoint_url = resource_url(cfg.client, s->endpoint);
    // The scan's key: the placeholders' values, one JSON value or an array.
    rapidjson::Value key_array(rapidjson::kArrayType);
    for (const auto& column : p.key_columns()) {
      const auto& v = s->fields[column.c_str()];
      s->scope.fields.emplace_back(column, json_text(v));
      key_array.PushBack(rapidjson::Value(v, alloc), alloc);
    }
    s->scope.parent_value = key_array.Size() == 1 ? json_text(key_array[0]) : json_text(key_array);
    // Rows that differ only in included fields (an append parent): one scan.
    if (!seen.insert(s->scope.parent_value).second) continue;
    // `accounts.id=17`
    std::string label;
    for (const auto& ph : p.placeholders) {
      auto l = fmt::format("{}.{}={}", p.resource, ph.field, text[ph.field]);
      if (label.find(l) == std::string::npos) label += (label.empty() ? "" : ",") + l;
    }
    s->label = std::move(label);
    out.scopes.push_back(std::move(s));
  }
  return out;
}

struct scans_state {
  std::size_t next = 0;
  std::vector<run_outcome> outcomes;
};

}  // namespace

asio::awaitable<run_outcome> engine::impl::run_dependent(const resource_config& rc,
                                                         run_flags flags) {
  const auto started = steady::now();
  const auto& p = *rc.parent;
  const auto index = resource_index.at(rc.name);
  const auto plan_ptr = plan_for(index, rc);
  run_outcome out;
  out.resource = rc.name;
  if (progress) progress->run_started(rc.name, started);
  std::int64_t run_id = 0;
  std::string error;
  std::vector<std::unique_ptr<parent_scope>> scopes;
  try {
    co_await prepare_table(rc, *plan_ptr);
    db::run_options options;
    options.lease = flags.lease;
    auto rs = co_await store.begin_run(rc.name, options);
    run_id = rs.run_id;
    auto rows = co_await store.read_parents(run_id, p.resource, p.fields);
    if (!rows.synced) {
      error = fmt::format(
          "{}: its parent `{}` has no successful run in this database yet; {} runs once `{}` "
          "has synced (`restsyncd sync` runs a parent before its children)",
          rc.name, p.resource, rc.name, p.resource);
    } else if (!rows.missing.empty()) {
      error = fmt::format(
          "{}: the table of its parent `{}` has no column for field `{}`: no record of `{}` "
          "had that field; check `{{resources.{}.<field>}}` and include_from_parent",
          rc.name, p.resource, rows.missing.front(), p.resource, p.resource);
    } else {
      auto made = make_scopes(cfg, rc, rows.rows);
      if (made.skipped > 0)
        log.warn("parents_skipped", {{"resource", rc.name},
                                     {"parent", p.resource},
                                     {"rows", made.skipped},
                                     {"example", made.skipped_example},
                                     {"reason", "a value that cannot go in a request"}});
      scopes = std::move(made.scopes);
    }
  } catch (const std::exception& e) {
    error = fmt::format("{}: cannot start the run: {}", rc.name, e.what());
  }

  // The scans: up to max_in_flight requests at once, shared out.
  const auto max_in_flight = static_cast<std::size_t>(std::max(1, cfg.client.max_in_flight));
  const std::size_t parallel = std::max<std::size_t>(1, std::min(max_in_flight, scopes.size()));
  const std::size_t window = std::max<std::size_t>(1, max_in_flight / parallel);
  std::unordered_map<std::string, std::string> key_owners;
  scans_state st;
  st.outcomes.resize(scopes.size());
  if (error.empty() && !scopes.empty()) {
    log.info("parents", {{"resource", rc.name},
                         {"parent", p.resource},
                         {"rows", scopes.size()},
                         {"at_once", parallel}});
    for (auto& s : scopes) s->window = window;
    if (rc.write_disposition == disposition::merge && !keyed_by_parent(rc))
      for (auto& s : scopes) s->key_owners = &key_owners;
    // `parallel` workers, each taking the next parent until none is left.
    auto worker = [](impl* self, const resource_config* r, run_flags f,
                     std::vector<std::unique_ptr<parent_scope>>* all,
                     scans_state* state) -> asio::awaitable<void> {
      while (state->next < all->size()) {
        const auto i = state->next++;
        const parent_scope* scope = (*all)[i].get();
        state->outcomes[i] = co_await self->run_scan(*r, f, scope);
      }
    };
    co_await join_all(ex, parallel,
                      [&](std::size_t) { return worker(this, &rc, flags, &scopes, &st); });
  }

  // The whole: counts added up, failures listed by parent value.
  bool complete = error.empty();
  std::vector<std::string> failed;
  for (std::size_t i = 0; i < st.outcomes.size(); ++i) {
    const auto& o = st.outcomes[i];
    out.counts += o.counts;
    if (!o.complete_scan) complete = false;
    if (!o.ok) failed.push_back(fmt::format("{}: {}", scopes[i]->label, o.error));
  }
  if (error.empty() && !failed.empty()) {
    std::vector<std::string> shown(
        failed.begin(),
        failed.begin() + static_cast<std::ptrdiff_t>(std::min(failed.size(), failures_listed)));
    error = fmt::format("{}: {} of {} parents failed: {}{}", rc.name, failed.size(), scopes.size(),
                        fmt::join(shown, "; "),
                        failed.size() > shown.size()
                            ? fmt::format("; and {} more", failed.size() - shown.size())
                            : std::string());
  }
  if (run_id != 0 && error.empty()) {
    // The parents read are the live ones: the others' state goes, and with
    // on_parent_deleted: delete their rows too.
    try {
      std::vector<std::string> live;
      for (const auto& s : scopes) live.push_back(s->scope.parent_value);
      db::orphan_rule rule{rc.name, p.resource, {}, rc.hard_delete};
      for (const auto& ph : p.placeholders) {
        std::pair<std::string, std::string> f{ph.field, p.column_of(ph.field)};
        if (std::find(rule.fields.begin(), rule.fields.end(), f) == rule.fields.end())
          rule.fields.push_back(std::move(f));
      }
      const bool mark = p.on_parent_deleted == parent_deleted_action::remove;
      auto deleted = co_await store.settle_orphans(run_id, std::move(rule), std::move(live), mark);
      out.counts.deleted += deleted;
      if (deleted > 0)
        log.info("orphans_deleted",
                 {{"resource", rc.name}, {"parent", p.resource}, {"rows", deleted}});
    } catch (const std::exception& e) {
      error =
          fmt::format("{}: deleting the rows of vanished parents failed: {}", rc.name, e.what());
    }
  }
  out.ok = error.empty();
  out.error = cfg.secrets.mask(error);
  out.complete_scan = complete && out.ok;
  out.counts.seconds = seconds_since(started);
  if (run_id != 0) {
    db::run_summary s;
    s.run_id = run_id;
    s.resource = rc.name;
    s.status = out.ok ? db::run_status::succeeded : db::run_status::failed;
    s.counts = out.counts;
    s.complete_scan = out.complete_scan;
    s.error = out.error;
    s.gate_rate = gate.allowed_rate();
    s.set_counts = true;
    try {
      co_await store.finish_run(s);
    } catch (const std::exception& e) {
      if (out.ok)
        out.error =
            cfg.secrets.mask(fmt::format("{}: recording the run failed: {}", rc.name, e.what()));
      out.ok = false;
    }
  }
  log_summary(out);
  if (progress) progress->run_finished(rc.name, out.ok, steady::now());
  co_return out;
}

}  // namespace restsync::sync

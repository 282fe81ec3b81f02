#include "stats.hpp"

#include <fmt/format.h>

#include "json_text.hpp"

namespace emulator {

void sliding_window::add(clock::time_point t) {
  while (!times_.empty() && times_.front() <= t - std::chrono::seconds(1)) times_.pop_front();
  times_.push_back(t);
  peak_ = std::max<std::uint64_t>(peak_, times_.size());
}

void stats::request(std::string_view path, clock::time_point t, bool admitted) {
  auto it = requests_.find(path);
  if (it == requests_.end()) it = requests_.emplace(std::string(path), 0).first;
  ++it->second;
  ++requests_total_;
  received_.add(t);
  if (admitted) admitted_.add(t);
}

void stats::answered(int status) {
  if (status != 0) ++status_[status];
}

void stats::fault(fault_kind kind) { ++faults_[static_cast<std::size_t>(kind)]; }

void stats::connection_opened() {
  ++connections_open_;
  connections_peak_ = std::max(connections_peak_, connections_open_);
}

void stats::connection_closed() {
  if (connections_open_ > 0) --connections_open_;
}

void stats::reset() {
  requests_.clear();
  requests_total_ = 0;
  status_.clear();
  faults_ = {};
  received_.reset();
  admitted_.reset();
  connections_peak_ = connections_open_;
}

std::string stats::to_json() const {
  std::string out = "{\"requests\":{";
  bool first = true;
  for (auto& [path, n] : requests_) {
    if (!first) out += ',';
    first = false;
    out += fmt::format("{}:{}", quote(path), n);
  }
  out += fmt::format("}},\"requests_total\":{},\"status\":{{", requests_total_);
  first = true;
  std::uint64_t rate_limited = 0;
  for (auto& [status, n] : status_) {
    if (!first) out += ',';
    first = false;
    out += fmt::format("\"{}\":{}", status, n);
    if (status == 429) rate_limited = n;
  }
  out += fmt::format("}},\"rate_limited\":{},\"faults\":{{", rate_limited);
  for (std::size_t i = 0; i < fault_kind_count; ++i) {
    if (i) out += ',';
    out += fmt::format("\"{}\":{}", fault_name(static_cast<fault_kind>(i)), faults_[i]);
  }
  out += fmt::format(
      "}},\"max_requests_1s\":{},\"max_admitted_1s\":{},\"connections_peak\":{},"
      "\"connections_open\":{}}}",
      received_.peak(), admitted_.peak(), connections_peak_, connections_open_);
  return out;
}

}  // namespace emulator

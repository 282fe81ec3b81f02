// What /__stats reports about API requests (control endpoints never count).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>

#include "settings.hpp"

namespace emulator {

// Requests seen within the last second, and the most ever seen at once.
class sliding_window {
 public:
  using clock = std::chrono::steady_clock;
  void add(clock::time_point t);
  std::uint64_t peak() const { return peak_; }
  void reset() {
    times_.clear();
    peak_ = 0;
  }

 private:
  std::deque<clock::time_point> times_;
  std::uint64_t peak_ = 0;
};

class stats {
 public:
  using clock = std::chrono::steady_clock;

  // An API request received at t; admitted means it was not answered 429.
  void request(std::string_view path, clock::time_point t, bool admitted);
  // status 0: no response was sent (reset).
  void answered(int status);
  void fault(fault_kind kind);
  void connection_opened();
  void connection_closed();
  void reset();
  std::string to_json() const;

 private:
  std::map<std::string, std::uint64_t, std::less<>> requests_;
  std::uint64_t requests_total_ = 0;
  std::map<int, std::uint64_t> status_;
  std::array<std::uint64_t, fault_kind_count> faults_{};
  sliding_window received_, admitted_;
  std::uint64_t connections_open_ = 0, connections_peak_ = 0;
};

}  // namespace emulator

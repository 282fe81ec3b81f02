// Deterministic, realistic records for every resource, including the values
// that break naive loaders: nulls, absent fields, unicode, escapes, markup and
// integers beyond 2^53 and beyond int64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "record.hpp"

namespace emulator {

// Creation time of the serial-th record; strictly increasing in serial.
std::int64_t timestamp_for(std::size_t resource, std::uint64_t seed, std::uint64_t serial);

// The serial-th record, created at time. Every timestamp it holds is at least
// time; *latest receives the largest.
record generate_record(std::size_t resource, std::uint64_t seed, std::uint64_t serial,
                       std::int64_t time, std::int64_t* latest = nullptr);

// The primary key the serial-th record gets, as text.
std::string key_for(std::size_t resource, std::uint64_t seed, std::uint64_t serial,
                    std::int64_t time);

// Fields (name, raw JSON value) that the change_no-th generated change writes
// into r; now is a fresh timestamp for updatedAt-like fields.
std::vector<std::pair<std::string, std::string>> generated_change(std::size_t resource,
                                                                  std::uint64_t seed,
                                                                  const record& r,
                                                                  std::uint64_t change_no,
                                                                  std::int64_t now);

// Finds the drift field in r.json again after an edit.
void locate_drift(std::size_t resource, record& r);

// Appends r as served under the late_fields quirk: the drift field with another
// JSON type and extra fields that page one never shows.
void append_late(std::string& out, std::size_t resource, std::uint64_t seed, const record& r);

}  // namespace emulator

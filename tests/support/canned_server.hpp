// An HTTP server on 127.0.0.1 that answers every request with one fixed JSON
// body: for bodies the emulator cannot serve, valid JSON that is hostile all
// the same (lone surrogates in values, NUL and surrogates in field names).
#pragma once

#include <memory>
#include <string>

namespace rs_test {

class canned_server {
 public:
  explicit canned_server(std::string body);
  ~canned_server();
  canned_server(const canned_server&) = delete;
  canned_server& operator=(const canned_server&) = delete;

  std::string base_url() const;  // http://127.0.0.1:PORT
  int requests() const;          // answered so far

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace rs_test

// The PostgreSQL cluster the tests run against (the one on PGPORT, started by
// scripts/test's pg_virtualenv), stopped and started with pg_ctlcluster to
// test what happens when the database goes away.
#pragma once

#include <string>

namespace rs_test {

class test_cluster {
 public:
  test_cluster();   // finds the cluster listening on PGPORT
  ~test_cluster();  // starts it again if a test left it down
  void stop();      // fast shutdown: sessions are terminated
  void start();

 private:
  void ctl(const std::string& action);
  std::string version_, name_;
};

}  // namespace rs_test

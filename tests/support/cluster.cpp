#include "cluster.hpp"

#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "support.hpp"

namespace rs_test {

test_cluster::test_cluster() {
  const char* port = std::getenv("PGPORT");
  if (!port) throw std::runtime_error("test_cluster: PGPORT is not set (run under pg_virtualenv)");
  process ls({"/usr/bin/pg_lsclusters", "-h"});
  std::istringstream out(ls.stdout_rest(30s));
  for (std::string line; std::getline(out, line);) {
    std::istringstream f(line);
    std::string version, name, p;
    f >> version >> name >> p;
    if (p == port) {
      version_ = version;
      name_ = name;
    }
  }
  if (name_.empty()) throw std::runtime_error(std::string("no cluster on PGPORT ") + port);
}

test_cluster::~test_cluster() {
  process p({"/usr/bin/pg_ctlcluster", version_, name_, "start"});
  p.wait(60s);
}

void test_cluster::stop() { ctl("stop"); }
void test_cluster::start() { ctl("start"); }

void test_cluster::ctl(const std::string& action) {
  std::vector<std::string> argv = {"/usr/bin/pg_ctlcluster", version_, name_, action};
  if (action == "stop") argv.insert(argv.end(), {"-m", "fast"});
  process p(argv);
  auto code = p.wait(60s);
  if (code != 0)
    throw std::runtime_error("pg_ctlcluster " + action + " failed: " + p.stderr_text());
}

}  // namespace rs_test

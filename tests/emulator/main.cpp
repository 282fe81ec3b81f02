// analytics-emulator: the analytics API with its quirks and faults, seeded and
// deterministic, for tests, the demo and benchmarks. See docs/emulator.md.
#include <iostream>
#include <string>
#include <vector>

#include "app.hpp"
#include "data_set.hpp"
#include "server.hpp"
#include "settings.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  emulator::options opts;
  try {
    opts = emulator::parse_command_line(args);
  } catch (const emulator::usage_error& e) {
    std::cerr << "analytics-emulator: " << e.what() << "\n" << emulator::usage();
    return 2;
  }
  if (opts.help) {
    std::cout << emulator::usage();
    return 0;
  }
  emulator::data_set data(opts.seed, opts.records);
  emulator::app app(std::move(opts), std::move(data));
  return emulator::run_server(app);
}

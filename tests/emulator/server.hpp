// The network side: HTTP/1.1 (optionally TLS) on one thread, performing the
// replies that app decides.
#pragma once

#include "app.hpp"

namespace emulator {

// Listens, prints "listening HOST:PORT", serves until SIGINT or SIGTERM.
// Returns the process exit status.
int run_server(app& a);

}  // namespace emulator

#pragma once

#include <string>

namespace gk::bench {

// The baseline: binds PULL on `in` and PUSH on `out` like the gatekeeper, and moves every
// frame straight across with zero-copy receive and send. What any checking costs is
// measured against this. Runs until SIGTERM.
int run_forwarder(const std::string& in, const std::string& out);

}  // namespace gk::bench

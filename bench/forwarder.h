#pragma once

#include <string>

namespace gk::bench {

// The baseline: binds PULL on `in` and PUSH on `out` like the gatekeeper, and moves every
// frame straight across (zmq_msg_recv into one zmq_msg_t, zmq_msg_send of that same
// message, which hands the buffer over). Nothing else: no decoding, no poll, no allocation
// per message, no clock reads. What any checking costs is measured against this. Runs until
// SIGTERM.
int run_forwarder(const std::string& in, const std::string& out);

}  // namespace gk::bench

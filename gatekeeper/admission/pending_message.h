#pragma once

#include <chrono>
#include <vector>

#include <zmq.hpp>

namespace gk {

// One message taken from the ingress, as it travels through the loop: its frames, untouched
// (forwarded byte-identical), and when it was taken (for latency and the hold deadline).
struct PendingMessage {
  std::vector<zmq::message_t> frames;
  std::chrono::steady_clock::time_point received;
};

}  // namespace gk

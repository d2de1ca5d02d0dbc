#pragma once

#include <cstddef>
#include <vector>

#include <zmq.hpp>

#include "gatekeeper/admission/decision_writer.h"

namespace gk {

// Where admitted messages leave: the channels' PUSH sockets (by routable channel index) and
// the decisions socket. The sockets belong to MessagePipeline; unit tests use
// tests/fakes/FakeOutlets instead.
class SocketOutlets {
 public:
  SocketOutlets(std::vector<zmq::socket_t>& channels, zmq::socket_t& decisions)
      : channels_(channels), decisions_(decisions) {}

  // Sends without blocking; false (frames untouched) when the adapter's socket is full or has
  // no peer.
  bool try_forward(std::size_t channel, std::vector<zmq::message_t>& frames);
  void send_decision(const Decision& d, std::vector<zmq::message_t>& frames) {
    decisions_.write(d, frames);
  }

 private:
  std::vector<zmq::socket_t>& channels_;
  DecisionWriter decisions_;
};

}  // namespace gk

#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "common/rules/verdict.h"

namespace gk {

// A message that is not forwarded, and why (PROTOCOL.md section 4). The views may point into
// the message's header frame.
struct Decision {
  std::string_view id;
  std::string_view channel;
  Action action = Action::kReject;
  Reason reason = Reason::kNone;
  std::string_view detail;  // optional; e.g. what is malformed
  std::string_view topic;   // for the topic reasons
};

// Encodes decision frames and sends them, followed by the message's own frames, on the
// decisions socket. Reuses one buffer, so a decision allocates nothing once warmed up.
class DecisionWriter {
 public:
  explicit DecisionWriter(zmq::socket_t& socket) : socket_(socket) {}

  // The decision map as msgpack; valid until the next call.
  std::string_view encode(const Decision& d);
  // Sends [decision, frames...]. The frames are handed to ZeroMQ, so `d`'s views must not be
  // read afterwards.
  void write(const Decision& d, std::vector<zmq::message_t>& frames);

 private:
  zmq::socket_t& socket_;
  msgpack::sbuffer buffer_;
  std::string reason_text_;
};

}  // namespace gk

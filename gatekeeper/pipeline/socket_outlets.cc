#include "gatekeeper/pipeline/socket_outlets.h"

namespace gk {

bool SocketOutlets::try_forward(std::size_t channel, std::vector<zmq::message_t>& frames) {
  zmq::socket_t& socket = channels_[channel];
  const std::size_t n = frames.size();
  // ZeroMQ checks the high-water mark on a message's first frame only: once it is taken,
  // the remaining frames of the message are taken too.
  if (!socket.send(frames[0], n > 1 ? zmq::send_flags::sndmore | zmq::send_flags::dontwait
                                    : zmq::send_flags::dontwait)) {
    return false;
  }
  for (std::size_t i = 1; i < n; ++i) {
    (void)socket.send(frames[i], i + 1 < n ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  return true;
}

}  // namespace gk

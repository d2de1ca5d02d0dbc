#include "bench/forwarder.h"

#include <signal.h>

#include <atomic>

#include <zmq.hpp>

namespace gk::bench {

namespace {
std::atomic<bool> g_stop{false};
void on_term(int) {
  g_stop = true;
}
}  // namespace

int run_forwarder(const std::string& in, const std::string& out) {
  ::signal(SIGTERM, on_term);
  zmq::context_t ctx(1);
  zmq::socket_t pull(ctx, zmq::socket_type::pull);
  zmq::socket_t push(ctx, zmq::socket_type::push);
  pull.set(zmq::sockopt::rcvhwm, 100000);
  push.set(zmq::sockopt::sndhwm, 100000);
  push.set(zmq::sockopt::linger, 0);
  pull.bind(in);
  push.bind(out);
  zmq::message_t frame;
  while (!g_stop) {
    zmq::pollitem_t item{pull.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(100));
      // Drain everything queued per wake-up, as the gatekeeper's batch loop does.
      while (pull.recv(frame, zmq::recv_flags::dontwait)) {
        const bool more = frame.more();
        (void)push.send(frame, more ? zmq::send_flags::sndmore : zmq::send_flags::none);
      }
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
  }
  return 0;
}

}  // namespace gk::bench

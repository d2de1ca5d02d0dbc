#include "bench/forwarder.h"

#include <signal.h>

#include <cerrno>
#include <cstdio>

#include <zmq.h>

namespace gk::bench {

namespace {

volatile sig_atomic_t g_stop = 0;
void on_term(int) {
  g_stop = 1;
}

// Closes the raw ZeroMQ handles however the loop ends.
struct Handles {
  void* ctx = zmq_ctx_new();
  void* pull = nullptr;
  void* push = nullptr;
  zmq_msg_t frame{};
  Handles() { zmq_msg_init(&frame); }
  ~Handles() {
    zmq_msg_close(&frame);
    if (pull) zmq_close(pull);
    if (push) zmq_close(push);
    zmq_ctx_term(ctx);
  }
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;
};

}  // namespace

int run_forwarder(const std::string& in, const std::string& out) {
  // Without SA_RESTART a blocked zmq_msg_recv returns EINTR on SIGTERM, so the loop needs
  // no timeout (and no poll) to notice the stop.
  struct sigaction sa {};
  sa.sa_handler = on_term;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);

  Handles h;
  h.pull = zmq_socket(h.ctx, ZMQ_PULL);
  h.push = zmq_socket(h.ctx, ZMQ_PUSH);
  const int hwm = 100000, linger = 0;
  zmq_setsockopt(h.pull, ZMQ_RCVHWM, &hwm, sizeof(hwm));
  zmq_setsockopt(h.push, ZMQ_SNDHWM, &hwm, sizeof(hwm));
  zmq_setsockopt(h.push, ZMQ_LINGER, &linger, sizeof(linger));
  if (zmq_bind(h.pull, in.c_str()) != 0 || zmq_bind(h.push, out.c_str()) != 0) {
    std::fprintf(stderr, "forwarder: cannot bind %s / %s: %s\n", in.c_str(), out.c_str(),
                 zmq_strerror(zmq_errno()));
    return 1;
  }
  while (!g_stop) {
    if (zmq_msg_recv(&h.frame, h.pull, 0) < 0) {
      if (zmq_errno() == EINTR) continue;
      std::fprintf(stderr, "forwarder: receive: %s\n", zmq_strerror(zmq_errno()));
      return 1;
    }
    // zmq_msg_send takes the frame's content and leaves it empty: a move, not a copy.
    const int flags = zmq_msg_more(&h.frame) ? ZMQ_SNDMORE : 0;
    while (zmq_msg_send(&h.frame, h.push, flags) < 0) {
      if (zmq_errno() != EINTR || g_stop) return g_stop ? 0 : 1;
    }
  }
  return 0;
}

}  // namespace gk::bench

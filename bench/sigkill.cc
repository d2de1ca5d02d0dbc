#include "bench/sigkill.h"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>

#include "bench/load.h"
#include "tests/support/gatekeeper_process.h"
#include "tests/support/ports.h"
#include "tests/support/redis_server.h"

namespace gk::bench {

namespace {

struct KillResult {
  std::uint64_t sent = 0, arrived = 0;
};

KillResult measure(int hwm) {
  zmq::context_t ctx(1);
  test::RedisServer redis;
  test::GatekeeperOptions opts;
  opts.redis_port = redis.port();
  opts.log_level = "warn";
  opts.rcvhwm = hwm;
  opts.sndhwm = hwm;
  auto gk = std::make_unique<test::GatekeeperProcess>(opts);
  if (!gk->wait_ready()) throw std::runtime_error("gatekeeper did not start");

  constexpr std::uint64_t kMessages = 200'000;
  std::atomic<std::uint64_t> arrived{0};
  std::atomic<bool> done{false};
  std::thread receiver([&] {
    zmq::socket_t mail(ctx, zmq::socket_type::pull);
    mail.set(zmq::sockopt::linger, 0);
    mail.set(zmq::sockopt::rcvhwm, hwm);
    mail.connect(test::tcp_endpoint(opts.mail_port));
    zmq::message_t frame;
    while (!done) {
      zmq::pollitem_t item{mail.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(100));
      while (mail.recv(frame, zmq::recv_flags::dontwait)) {
        while (frame.more()) (void)mail.recv(frame, zmq::recv_flags::none);
        ++arrived;
      }
    }
  });
  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 10000);
  push.set(zmq::sockopt::sndhwm, hwm);
  push.connect(test::tcp_endpoint(opts.messages_port));
  std::vector<std::string> headers;
  for (int i = 0; i < 1000; ++i) headers.push_back(make_header(i, i, false, HeaderKind::kIdOnly));
  const std::string payload(512, 'x');
  bool killed = false;
  for (std::uint64_t i = 0; i < kMessages; ++i) {
    (void)push.send(zmq::buffer(headers[i % headers.size()]), zmq::send_flags::sndmore);
    (void)push.send(zmq::buffer(payload), zmq::send_flags::none);
    if (!killed && i == kMessages / 2) {
      // Mid-stream, with the pipes full: the worst case for what sits in buffers.
      gk->process().signal(SIGKILL);
      gk->process().wait(std::chrono::seconds(5));
      gk = std::make_unique<test::GatekeeperProcess>(opts);
      killed = true;
    }
  }
  (void)test::eventually([&] { return arrived.load() >= kMessages; }, std::chrono::seconds(20));
  done = true;
  receiver.join();
  return {kMessages, arrived.load()};
}

}  // namespace

int run_sigkill_measurement() {
  std::printf("%10s %10s %10s %10s\n", "HWM", "sent", "arrived", "lost");
  for (int hwm : {1000, 100000}) {
    const KillResult r = measure(hwm);
    std::printf("%10d %10llu %10llu %10llu\n", hwm, static_cast<unsigned long long>(r.sent),
                static_cast<unsigned long long>(r.arrived),
                static_cast<unsigned long long>(r.sent - r.arrived));
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace gk::bench

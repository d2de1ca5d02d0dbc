#include "bench/soak.h"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "bench/load.h"
#include "common/redis/redis_connection.h"
#include "tests/support/gatekeeper_process.h"
#include "tests/support/redis_server.h"

namespace gk::bench {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kPeople = 10'000;
bool opted_out(std::uint64_t p) {
  return p % 10 == 0;
}
bool blacklisted(std::uint64_t p) {
  return p % 50 == 7;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

void seed(test::RedisServer& redis) {
  auto connected = RedisConnection::connect(redis.config());
  if (!connected) throw std::runtime_error(connected.error());
  RedisConnection::Ptr conn = std::move(connected).value();
  std::uint64_t n = 0;
  for (std::uint64_t p = 0; p < kPeople; ++p) {
    if (!opted_out(p) && !blacklisted(p)) continue;
    const std::string key = "gk:u:retail-eu:" + person_id(p);
    conn->append({"HSET", key, opted_out(p) ? "MAIL" : "BLACKLIST", "1"});
    ++n;
  }
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!conn->get_reply()) throw std::runtime_error("seeding failed");
  }
}

}  // namespace

int run_soak(double minutes, unsigned rate, unsigned restart_every_s) {
  zmq::context_t ctx(1);
  test::RedisServer redis(/*persistent=*/true);
  seed(redis);
  test::GatekeeperOptions opts;
  opts.redis_port = redis.port();
  opts.log_level = "warn";
  opts.hold_max_wait_ms = 60000;
  test::GatekeeperProcess gk(opts);
  if (!gk.wait_ready()) {
    std::fprintf(stderr, "gatekeeper did not start:\n%s\n", gk.log().c_str());
    return 1;
  }
  const pid_t pid = gk.process().pid();
  const long rss_start = rss_kib(pid);

  std::atomic<std::uint64_t> sent{0}, forwarded{0}, decided{0}, wrong{0};
  std::atomic<bool> stop_sending{false}, stop_receiving{false};
  std::thread receiver([&] {
    zmq::socket_t mail(ctx, zmq::socket_type::pull), decisions(ctx, zmq::socket_type::pull);
    mail.set(zmq::sockopt::linger, 0);
    decisions.set(zmq::sockopt::linger, 0);
    mail.connect(gk.mail());
    decisions.connect(gk.decisions());
    zmq::message_t frame;
    while (!stop_receiving) {
      zmq::pollitem_t items[] = {{mail.handle(), 0, ZMQ_POLLIN, 0},
                                 {decisions.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 2, std::chrono::milliseconds(100));
      while (mail.recv(frame, zmq::recv_flags::dontwait)) {
        while (frame.more()) (void)mail.recv(frame, zmq::recv_flags::none);
        std::uint64_t person = 0;
        std::memcpy(&person, static_cast<const char*>(frame.data()) + 8, sizeof(person));
        if (opted_out(person) || blacklisted(person)) ++wrong;
        ++forwarded;
      }
      while (decisions.recv(frame, zmq::recv_flags::dontwait)) {
        while (frame.more()) (void)decisions.recv(frame, zmq::recv_flags::none);
        ++decided;
      }
    }
  });
  std::thread sender([&] {
    zmq::socket_t push(ctx, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 5000);
    push.connect(gk.messages());
    std::vector<std::string> headers;
    for (std::uint64_t p = 0; p < kPeople; ++p)
      headers.push_back(make_header(p, p, false, HeaderKind::kIdOnly));
    std::string payload(512, 'x');
    const auto start = Clock::now();
    for (std::uint64_t i = 0; !stop_sending; ++i) {
      if (i % 100 == 0) {
        std::this_thread::sleep_until(start +
                                      std::chrono::nanoseconds(i * 1'000'000'000ULL / rate));
      }
      const std::uint64_t person = (i * 7919) % kPeople;
      std::memcpy(payload.data() + 8, &person, sizeof(person));
      (void)push.send(zmq::buffer(headers[person]), zmq::send_flags::sndmore);
      (void)push.send(zmq::buffer(payload), zmq::send_flags::none);
      ++sent;
    }
  });

  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(minutes * 60);
  auto next_restart = start + std::chrono::seconds(restart_every_s);
  auto next_print = start;
  unsigned restarts = 0;
  std::printf("%8s %12s %12s %12s %8s %10s\n", "t (s)", "sent", "forwarded", "decided", "wrong",
              "RSS KiB");
  while (Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    if (Clock::now() >= next_restart) {
      redis.stop();
      std::this_thread::sleep_for(std::chrono::seconds(2));  // the outage lasts two seconds
      redis.start();
      ++restarts;
      next_restart += std::chrono::seconds(restart_every_s);
    }
    const auto t = std::chrono::duration<double>(Clock::now() - start).count();
    if (Clock::now() >= next_print) {
      next_print += std::chrono::seconds(10);
      std::printf("%8.0f %12llu %12llu %12llu %8llu %10ld\n", t,
                  static_cast<unsigned long long>(sent.load()),
                  static_cast<unsigned long long>(forwarded.load()),
                  static_cast<unsigned long long>(decided.load()),
                  static_cast<unsigned long long>(wrong.load()), rss_kib(pid));
      std::fflush(stdout);
    }
  }
  stop_sending = true;
  sender.join();
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (forwarded + decided < sent && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop_receiving = true;
  receiver.join();
  const long rss_end = rss_kib(pid);
  const std::uint64_t lost = sent - forwarded - decided;
  std::printf(
      "\nsoak: %.1f min at %u msg/s, %u Redis restarts\n"
      "  messages in %llu, out %llu (forwarded %llu, decisions %llu), lost %llu\n"
      "  wrong sends %llu\n  RSS start %ld KiB, end %ld KiB\n",
      minutes, rate, restarts, static_cast<unsigned long long>(sent.load()),
      static_cast<unsigned long long>(forwarded + decided),
      static_cast<unsigned long long>(forwarded.load()),
      static_cast<unsigned long long>(decided.load()), static_cast<unsigned long long>(lost),
      static_cast<unsigned long long>(wrong.load()), rss_start, rss_end);
  return (wrong == 0 && lost == 0) ? 0 : 1;
}

}  // namespace gk::bench

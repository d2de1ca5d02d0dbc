#include "bench/propagation.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

#include "bench/backend.h"
#include "bench/load.h"
#include "bench/measure.h"
#include "tests/support/gatekeeper_process.h"
#include "tests/support/ports.h"
#include "tests/support/zmq_peers.h"

namespace gk::bench {

namespace {

using Clock = std::chrono::steady_clock;

struct Stats {
  double p50 = 0, p99 = 0, max = 0;
  int trials = 0, timeouts = 0;
};

Stats summarize(std::vector<double> ms, int timeouts) {
  Stats s;
  s.trials = static_cast<int>(ms.size());
  s.timeouts = timeouts;
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double p) {
    return ms[static_cast<std::size_t>(p / 100.0 * static_cast<double>(ms.size() - 1))];
  };
  s.p50 = at(50);
  s.p99 = at(99);
  s.max = ms.back();
  return s;
}

// Sends probes for `person` through gatekeeper 2 until one comes back suppressed; returns
// the milliseconds since `start`, or a negative number after 2 s.
double probe_until_suppressed(test::Sender& sender, test::Sink& mail, test::Sink& decisions,
                              const std::string& person, Clock::time_point start, int& seq) {
  const auto deadline = start + std::chrono::seconds(2);
  while (Clock::now() < deadline) {
    const std::string id = "probe-" + std::to_string(seq++);
    sender.send({test::pack({{"id", id},
                             {"channel", "MAIL"},
                             {"user", {{"id", person}}},
                             {"to", "x@example.com"}}),
                 "p"});
    // Each probe has exactly one outcome; read it before sending the next.
    while (true) {
      zmq::pollitem_t items[] = {{mail.socket().handle(), 0, ZMQ_POLLIN, 0},
                                 {decisions.socket().handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 2, std::chrono::milliseconds(500));
      if (items[1].revents & ZMQ_POLLIN) {
        auto f = decisions.receive(std::chrono::milliseconds(0));
        if (test::unpack((*f)[0])["id"] == id) {
          return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        }
      } else if (items[0].revents & ZMQ_POLLIN) {
        auto f = mail.receive(std::chrono::milliseconds(0));
        if (test::unpack((*f)[0])["id"] == id) break;
      } else {
        break;
      }
    }
  }
  return -1;
}

}  // namespace

int run_propagation(int trials, bool cluster, bool as_json) {
  zmq::context_t ctx(1);
  Backend redis(cluster);
  std::fprintf(stderr, "propagation on %s, load average %s\n", redis.describe().c_str(),
               load_averages().c_str());
  test::GatekeeperOptions o1, o2;
  for (auto* o : {&o1, &o2}) {
    redis.configure(*o);
    o->log_level = "warn";
  }
  test::GatekeeperProcess gk1(o1), gk2(o2);
  if (!gk1.wait_ready() || !gk2.wait_ready()) {
    std::cerr << "gatekeepers did not start\n" << gk1.log() << gk2.log();
    return 1;
  }
  test::Sender sender(ctx, gk2.messages());
  test::Sink mail(ctx, gk2.mail());
  test::Sink decisions(ctx, gk2.decisions());
  httplib::Client api("127.0.0.1", o1.http_port);
  api.set_keep_alive(true);
  api.set_tcp_nodelay(true);
  const httplib::Headers auth = {{"X-XNG-AuthToken", o1.auth_token}};
  int seq = 0;

  auto run = [&](const char* path_name, auto&& opt_out) {
    std::vector<double> ms;
    int timeouts = 0;
    for (int t = 0; t < trials; ++t) {
      const std::string person = std::string(path_name) + "-" + std::to_string(t);
      // Warm gatekeeper 2's cache with the person not opted out, as in steady state.
      sender.send({test::pack({{"id", "warm-" + person},
                               {"channel", "MAIL"},
                               {"user", {{"id", person}}},
                               {"to", "x@example.com"}}),
                   "p"});
      if (!mail.receive(std::chrono::seconds(2))) {
        std::fprintf(stderr, "warm-up message for %s did not arrive\n", person.c_str());
        return Stats{};
      }
      const auto start = Clock::now();
      if (!opt_out(person)) {
        std::fprintf(stderr, "%s: opting %s out failed\n", path_name, person.c_str());
        return Stats{};
      }
      const double took = probe_until_suppressed(sender, mail, decisions, person, start, seq);
      if (took < 0) {
        ++timeouts;
      } else {
        ms.push_back(took);
      }
    }
    return summarize(std::move(ms), timeouts);
  };

  const Stats via_api = run("api", [&](const std::string& person) {
    auto res = api.Put("/users/" + person + "/optout-status?channelType=MAIL", auth,
                       R"({"optOut": true})", "application/json");
    return res && res->status == 200;
  });
  const Stats via_redis = run("hset", [&](const std::string& person) {
    const std::string key = "gk:u::" + person;
    auto r = redis.command(key, {"HSET", key, "MAIL", "1"});
    return r && r->type == REDIS_REPLY_INTEGER;
  });
  const auto redirects = redis.redirects();
  const Counters counters = store_counters({o1.http_port, o2.http_port});

  if (as_json) {
    nlohmann::json out = nlohmann::json::array();
    for (auto [name, s] : {std::pair{"api", via_api}, std::pair{"redis_hset", via_redis}}) {
      out.push_back(
          {{"backend", redis.name()},
           {"path", name},
           {"trials", s.trials},
           {"timeouts", s.timeouts},
           {"p50_ms", s.p50},
           {"p99_ms", s.p99},
           {"max_ms", s.max},
           {"hset_client_redirects", {{"moved", redirects.moved}, {"ask", redirects.ask}}},
           {"gatekeeper_counters", counters}});
    }
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("Redis: %s\n", redis.describe().c_str());
    std::printf("%-28s %7s %9s %9s %9s %9s\n", "propagation path", "trials", "timeouts", "p50 ms",
                "p99 ms", "max ms");
    std::printf("%-28s %7d %9d %9.3f %9.3f %9.3f\n", "API PUT on gatekeeper 1", via_api.trials,
                via_api.timeouts, via_api.p50, via_api.p99, via_api.max);
    std::printf("%-28s %7d %9d %9.3f %9.3f %9.3f\n", "HSET by another client", via_redis.trials,
                via_redis.timeouts, via_redis.p50, via_redis.p99, via_redis.max);
    std::printf("HSET client redirects: moved %d, ask %d\n", redirects.moved, redirects.ask);
    std::printf("both gatekeepers: %s\n", describe(counters).c_str());
  }
  return (via_api.timeouts == 0 && via_redis.timeouts == 0 && via_api.trials == trials &&
          via_redis.trials == trials)
             ? 0
             : 1;
}

}  // namespace gk::bench

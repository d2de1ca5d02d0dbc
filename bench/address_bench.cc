#include "bench/address_bench.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/backend.h"
#include "bench/load.h"
#include "bench/measure.h"
#include "tests/support/gatekeeper_process.h"
#include "tests/support/ports.h"

namespace gk::bench {

namespace {

constexpr std::uint64_t kPeople = 100'000;
constexpr int kAddresses = 10'000;
constexpr int kTombstones = 100;

double median_of(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// 32 hex digits, as a tombstone's salted hash is named: one that parses, so the loop holds
// it and hashes every message's identifiers, but that no message matches.
std::string tombstone_name(int i) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%016x%016x", 0xfeedu, static_cast<unsigned>(i));
  return buffer;
}

// Writes or deletes the suppressions and tombstones; waits until /metrics shows the loop's
// snapshot holds them (or none).
void set_book(Backend& redis, int http_port, bool on) {
  for (int i = 0; i < kAddresses; ++i) {
    const std::string key = "gk:a:MAIL:nobody-" + std::to_string(i) + "@example.org";
    if (on) {
      redis.command(key,
                    {"HSET", key, "suppressed", "1", "reason", "bounce", "suppressed:ts", "1"});
    } else {
      redis.command(key, {"DEL", key});
    }
  }
  for (int i = 0; i < kTombstones; ++i) {
    const std::string key = "gk:t:" + tombstone_name(i);
    if (on) {
      redis.command(key, {"HSET", key, "erased:ts", "1"});
    } else {
      redis.command(key, {"DEL", key});
    }
  }
  const std::string want_addresses = std::to_string(on ? kAddresses : 0);
  const std::string want_tombstones = std::to_string(on ? kTombstones : 0);
  const bool seen = test::eventually(
      [&] {
        const std::string m = test::http_get(http_port, "/metrics").body;
        return m.find("\ngk_suppressed_addresses " + want_addresses) != std::string::npos &&
               m.find("\ngk_erasure_tombstones " + want_tombstones) != std::string::npos;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(50));
  if (!seen) std::fprintf(stderr, "warning: the loop did not show the book's size in time\n");
}

}  // namespace

int run_address_bench(bool quick, bool as_json, int runs) {
  const std::uint64_t messages = quick ? 50'000 : 500'000;
  zmq::context_t ctx(1);
  Backend redis(false);
  const std::string load_before = load_averages();
  std::fprintf(stderr, "load average before: %s\nseeding %llu people\n", load_before.c_str(),
               static_cast<unsigned long long>(kPeople));
  seed(redis.config(), 0, kPeople, 10);
  test::GatekeeperOptions opts;
  redis.configure(opts);
  opts.log_level = "warn";
  opts.cache_max_entries = 4'000'000;
  opts.extra_toml = "[erasure]\nsalt = \"bench-salt-bench-salt-bench-salt-bench\"\n";
  test::GatekeeperProcess gk(opts);
  if (!gk.wait_ready(200, std::chrono::seconds(30))) {
    std::cerr << "gatekeeper did not start:\n" << gk.log();
    return 1;
  }
  LoadSpec base;
  base.ingress = gk.messages();
  base.sinks = {gk.mail(), gk.decisions()};
  base.people = kPeople;
  {
    LoadSpec warm = base;
    warm.messages = kPeople;
    warm.sequential_people = true;
    warm.label = "warm-up";
    (void)run_load(ctx, warm, std::chrono::seconds(30));
  }
  const pid_t pid = gk.process().pid();
  std::vector<Row> off, on;
  LoadSpec s = base;
  s.messages = messages;
  for (int run = 0; run < runs; ++run) {
    const std::string tag = " run " + std::to_string(run + 1);
    // Alternating which goes first, so a drift of the machine's load favours neither.
    for (int half = 0; half < 2; ++half) {
      const bool with_book = (half == 0) == (run % 2 == 1);
      set_book(redis, opts.http_port, with_book);
      // The book's own thread must not cost anything while nothing changes.
      const double idle_before = cpu_seconds(pid);
      std::this_thread::sleep_for(std::chrono::seconds(1));
      std::fprintf(stderr, "idle CPU with%s the book: %.1f ms/s\n", with_book ? "" : "out",
                   (cpu_seconds(pid) - idle_before) * 1000);
      (with_book ? on : off)
          .push_back(
              measure(with_book ? "addresses-on" + tag : "addresses-off" + tag, ctx, s, pid));
    }
  }
  auto med = [](const std::vector<Row>& rows, double Row::*field) {
    std::vector<double> v;
    for (const Row& r : rows) v.push_back(r.*field);
    return median_of(v);
  };
  const double off_rate = med(off, &Row::msgs_per_s), on_rate = med(on, &Row::msgs_per_s);
  const double off_cpu = med(off, &Row::cpu_us_per_msg), on_cpu = med(on, &Row::cpu_us_per_msg);
  const double off_p99 = med(off, &Row::p99), on_p99 = med(on, &Row::p99);
  const std::string load_after = load_averages();
  if (as_json) {
    std::cout << nlohmann::json{{"runs", runs},
                                {"messages", messages},
                                {"load_before", load_before},
                                {"load_after", load_after},
                                {"off",
                                 {{"msgs_per_s", off_rate},
                                  {"cpu_us_per_msg", off_cpu},
                                  {"p99_us", off_p99}}},
                                {"on",
                                 {{"msgs_per_s", on_rate},
                                  {"cpu_us_per_msg", on_cpu},
                                  {"p99_us", on_p99}}},
                                {"ratio_msgs_per_s", on_rate / off_rate},
                                {"ratio_cpu", on_cpu / off_cpu}}
                     .dump(2)
              << "\n";
  } else {
    std::printf("medians of %d runs of %llu messages; load average before %s, after %s\n", runs,
                static_cast<unsigned long long>(messages), load_before.c_str(), load_after.c_str());
    std::printf("addresses-off  %10.0f msg/s  CPU %6.2f us/msg  p99 %6.0f us\n", off_rate, off_cpu,
                off_p99);
    std::printf("addresses-on   %10.0f msg/s  CPU %6.2f us/msg  p99 %6.0f us\n", on_rate, on_cpu,
                on_p99);
    std::printf("on/off: msg/s x%.3f, CPU x%.3f\n", on_rate / off_rate, on_cpu / off_cpu);
  }
  return 0;
}

}  // namespace gk::bench

// gk-bench: throughput and latency of the gatekeeper against a bare ZeroMQ forwarder,
// both measured in the same run on the same machine. See docs/PERFORMANCE.md.
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "bench/forwarder.h"
#include "bench/load.h"
#include "bench/propagation.h"
#include "bench/sigkill.h"
#include "bench/soak.h"
#include "common/redis_connection.h"
#include "tests/support/gatekeeper_process.h"
#include "tests/support/ports.h"
#include "tests/support/redis_server.h"

using namespace gk;
using namespace gk::bench;
using nlohmann::json;

namespace {

constexpr const char* kUsage = R"(Usage: gk-bench [--quick] [--json] [--scenarios a,b,...]
       gk-bench soak [MINUTES [RATE [RESTART_EVERY_S]]]
       gk-bench propagation [TRIALS] [--json]
       gk-bench sigkill
       gk-bench forwarder IN OUT

Runs the scenarios (default all): baseline, warm, cold, transactional, paced, each as
messages/s, CPU time per message of the forwarding process, p50/p99/p999 end-to-end latency
and the ratio to the baseline measured in the same run.
  --quick       a tenth of the messages (a smoke run, not for the record)
  --json        print the results as JSON on stdout (progress stays on stderr)
)";

// utime + stime of a process, in seconds (all threads).
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15; ++i) {
    rest >> field;
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Row {
  std::string name;
  std::string against;  // which baseline row the ratio uses
  std::uint64_t messages = 0;
  double msgs_per_s = 0;
  double cpu_us_per_msg = 0;
  double p50 = 0, p99 = 0, p999 = 0;
};

Row measure(const std::string& name, zmq::context_t& ctx, LoadSpec spec, pid_t forwarder) {
  spec.label = name;
  std::fprintf(stderr, "%s: %llu messages\n", name.c_str(),
               static_cast<unsigned long long>(spec.messages));
  const double cpu0 = cpu_seconds(forwarder);
  LoadResult r = run_load(ctx, spec);
  const double cpu1 = cpu_seconds(forwarder);
  if (r.received != r.sent) {
    std::fprintf(stderr, "%s: WARNING received %llu of %llu\n", name.c_str(),
                 static_cast<unsigned long long>(r.received),
                 static_cast<unsigned long long>(r.sent));
  }
  Row row;
  row.name = name;
  row.messages = r.received;
  row.msgs_per_s = r.msgs_per_second();
  row.cpu_us_per_msg = r.received ? (cpu1 - cpu0) * 1e6 / static_cast<double>(r.received) : 0;
  row.p50 = r.percentile_us(50);
  row.p99 = r.percentile_us(99);
  row.p999 = r.percentile_us(99.9);
  std::fprintf(stderr, "%s: %.0f msg/s, %.2f us CPU/msg, p50 %.0f us, p99 %.0f us\n", name.c_str(),
               row.msgs_per_s, row.cpu_us_per_msg, row.p50, row.p99);
  return row;
}

// Writes `count` people from `first` with MAIL opted out for every `opt_out_every`-th, in
// pipelined batches (the bench's own Redis client, like any platform job).
void seed(test::RedisServer& redis, std::uint64_t first, std::uint64_t count,
          std::uint64_t opt_out_every) {
  std::string error;
  auto conn = RedisConnection::connect(redis.config(), error);
  if (!conn) throw std::runtime_error(error);
  constexpr std::uint64_t kBatch = 10000;
  for (std::uint64_t base = first; base < first + count; base += kBatch) {
    std::uint64_t n = 0;
    for (std::uint64_t p = base; p < std::min(first + count, base + kBatch); ++p, ++n) {
      const std::string key = "gk:u:retail-eu:" + person_id(p);
      const bool out = opt_out_every > 0 && p % opt_out_every == 0;
      conn->append({"HSET", key, "MAIL", out ? "1" : "0", "MAIL:ts", "1764000000000"});
    }
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!conn->get_reply()) throw std::runtime_error("seeding Redis failed");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "forwarder") == 0) return run_forwarder(argv[2], argv[3]);
  if (argc == 2 && std::strcmp(argv[1], "sigkill") == 0) return run_sigkill_measurement();
  if (argc >= 2 && std::strcmp(argv[1], "propagation") == 0) {
    int trials = 200;
    bool json_out = false;
    for (int i = 2; i < argc; ++i) {
      if (std::strcmp(argv[i], "--json") == 0) {
        json_out = true;
      } else {
        trials = std::stoi(argv[i]);
      }
    }
    return run_propagation(trials, json_out);
  }
  if (argc >= 2 && std::strcmp(argv[1], "soak") == 0) {
    return run_soak(argc > 2 ? std::stod(argv[2]) : 10.0,
                    argc > 3 ? static_cast<unsigned>(std::stoul(argv[3])) : 20000,
                    argc > 4 ? static_cast<unsigned>(std::stoul(argv[4])) : 60);
  }
  bool quick = false, as_json = false;
  std::string scenarios = "baseline,warm,cold,transactional,paced";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
    } else if (a == "--json") {
      as_json = true;
    } else if (a == "--scenarios" && i + 1 < argc) {
      scenarios = argv[++i];
    } else {
      std::fputs(kUsage, a == "--help" ? stdout : stderr);
      return a == "--help" ? 0 : 2;
    }
  }
  auto want = [&](const char* s) { return scenarios.find(s) != std::string::npos; };
  const std::uint64_t scale = quick ? 10 : 1;
  const std::uint64_t kMessages = 1'000'000 / scale;
  const std::uint64_t kPeople = 100'000;
  const std::uint64_t kColdPeople = 1'000'000 / scale;
  const std::uint64_t kPacedRate = 100'000;
  const std::uint64_t kPacedMessages = 500'000 / scale;

  zmq::context_t ctx(1);
  test::RedisServer redis;
  test::TempDir dir;
  std::vector<Row> rows;

  // Baseline: the bare forwarder between the same sender and sink.
  {
    const int in = test::free_port(), out = test::free_port();
    test::Process fwd(
        {"/proc/self/exe", "forwarder", test::tcp_endpoint(in), test::tcp_endpoint(out)},
        dir.file("forwarder.log"));
    // Resolve /proc/self/exe in the child: it is this very binary.
    LoadSpec spec;
    spec.messages = kMessages;
    spec.people = kPeople;
    spec.ingress = test::tcp_endpoint(in);
    spec.sinks = {test::tcp_endpoint(out)};
    rows.push_back(measure("baseline", ctx, spec, fwd.pid()));
    if (want("paced")) {
      spec.rate = kPacedRate;
      spec.messages = kPacedMessages;
      rows.push_back(measure("baseline-paced", ctx, spec, fwd.pid()));
    }
  }

  std::fprintf(stderr, "seeding %llu people (10%% opted out of MAIL)\n",
               static_cast<unsigned long long>(kPeople));
  seed(redis, 0, kPeople, 10);
  test::GatekeeperOptions opts;
  opts.redis_port = redis.port();
  opts.log_level = "warn";
  opts.cache_max_entries = 4'000'000;
  test::GatekeeperProcess gk(opts);
  if (!gk.wait_ready()) {
    std::cerr << "gatekeeper did not start:\n" << gk.log();
    return 1;
  }
  const std::vector<std::string> sinks = {gk.mail(), gk.decisions()};
  LoadSpec base;
  base.ingress = gk.messages();
  base.sinks = sinks;
  base.people = kPeople;

  // Warm the cache: every person once.
  {
    LoadSpec warmup = base;
    warmup.messages = kPeople;
    warmup.sequential_people = true;
    warmup.progress = false;
    (void)run_load(ctx, warmup);
  }
  const pid_t pid = gk.process().pid();
  if (want("warm")) {
    LoadSpec s = base;
    s.messages = kMessages;
    rows.push_back(measure("warm", ctx, s, pid));
    rows.back().against = "baseline";
  }
  if (want("transactional")) {
    LoadSpec s = base;
    s.messages = kMessages;
    s.transactional = true;
    rows.push_back(measure("transactional", ctx, s, pid));
    rows.back().against = "baseline";
  }
  if (want("paced")) {
    LoadSpec s = base;
    s.messages = kPacedMessages;
    s.rate = kPacedRate;
    rows.push_back(measure("paced", ctx, s, pid));
    rows.back().against = "baseline-paced";
  }
  if (want("cold")) {
    const std::uint64_t first = 10'000'000;
    std::fprintf(stderr, "seeding %llu more people for the cold run\n",
                 static_cast<unsigned long long>(kColdPeople));
    seed(redis, first, kColdPeople, 10);
    LoadSpec s = base;
    s.messages = kColdPeople;
    s.first_person = first;
    s.sequential_people = true;
    rows.push_back(measure("cold", ctx, s, pid));
    rows.back().against = "baseline";
  }

  auto baseline = [&](const std::string& name) -> const Row* {
    for (const auto& r : rows) {
      if (r.name == name) return &r;
    }
    return nullptr;
  };
  json out = json::array();
  std::printf("%-15s %10s %12s %10s %9s %9s %9s %10s %10s %10s\n", "scenario", "messages", "msg/s",
              "CPU us/msg", "p50 us", "p99 us", "p999 us", "x msg/s", "x CPU", "x p99");
  for (const auto& r : rows) {
    const Row* b = r.against.empty() ? nullptr : baseline(r.against);
    const double rt = b && b->msgs_per_s > 0 ? r.msgs_per_s / b->msgs_per_s : 1.0;
    const double rc = b && b->cpu_us_per_msg > 0 ? r.cpu_us_per_msg / b->cpu_us_per_msg : 1.0;
    const double rp = b && b->p99 > 0 ? r.p99 / b->p99 : 1.0;
    if (!as_json) {
      std::printf("%-15s %10llu %12.0f %10.2f %9.0f %9.0f %9.0f %10.2f %10.2f %10.2f\n",
                  r.name.c_str(), static_cast<unsigned long long>(r.messages), r.msgs_per_s,
                  r.cpu_us_per_msg, r.p50, r.p99, r.p999, rt, rc, rp);
    }
    out.push_back({{"scenario", r.name},
                   {"baseline", r.against},
                   {"messages", r.messages},
                   {"msgs_per_s", r.msgs_per_s},
                   {"cpu_us_per_msg", r.cpu_us_per_msg},
                   {"p50_us", r.p50},
                   {"p99_us", r.p99},
                   {"p999_us", r.p999},
                   {"ratio_msgs_per_s", rt},
                   {"ratio_cpu", rc},
                   {"ratio_p99", rp}});
  }
  if (as_json) std::cout << out.dump(2) << "\n";
  return 0;
}

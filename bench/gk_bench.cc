// gk-bench: throughput and latency of the gatekeeper against a bare ZeroMQ forwarder,
// both measured in the same run on the same machine. See docs/PERFORMANCE.md.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "bench/address_bench.h"
#include "bench/backend.h"
#include "bench/cluster_bench.h"
#include "bench/forwarder.h"
#include "bench/load.h"
#include "bench/measure.h"
#include "bench/propagation.h"
#include "bench/sigkill.h"
#include "bench/soak.h"
#include "tests/support/gatekeeper_process.h"
#include "tests/support/ports.h"

using namespace gk;
using namespace gk::bench;
using nlohmann::json;

namespace {

constexpr const char* kUsage = R"(Usage: gk-bench [--quick] [--json] [--scenarios a,b,...]
       gk-bench soak [MINUTES [RATE [RESTART_EVERY_S]]]
       gk-bench propagation [TRIALS] [--cluster] [--json]
       gk-bench cluster [--quick] [--json]
       gk-bench sigkill
       gk-bench addresses [--quick] [--json]
       gk-bench import [ROWS] [--json]
       gk-bench forwarder IN OUT

Runs the scenarios (default all): baseline, warm, cold, transactional, paced, each as
messages/s, CPU time per message of the forwarding process, p50/p99/p999 end-to-end latency
and the ratio to the baseline measured in the same run.
  --quick       a tenth of the messages (a smoke run, not for the record)
  --json        print the results as JSON on stdout (progress stays on stderr)

propagation: two gatekeepers on one Redis, how fast an opt-out made through one (API PUT)
or by another Redis client (HSET) reaches the other's cache, p50/p99/max over TRIALS
(default 200). --cluster: on a Redis Cluster of 3 primaries instead of one redis-server.

cluster: two gatekeepers loaded at the same time, each by its own sender, once on one
redis-server and once on a Redis Cluster of 3 primaries: warm (cached people) and cold
(every message a store read); aggregate msg/s, CPU, p50/p99, each sidecar's figures and the
cluster/single ratio. --quick: a tenth of the messages.

addresses: warm msg/s of one gatekeeper with no suppressed address, then with 10,000
suppressed addresses and 100 erasure tombstones (none matching the load), and the ratio.

import: gatekeeper-ctl import of ROWS CSV rows (default 1000000), a bad row every 1,000:
rows/s end to end and whether every bad row was reported.
)";

// The words after the command: --json always, and those of `allowed` among --quick, --cluster,
// --scenarios LIST and a number (TRIALS).
struct Flags {
  bool quick = false, json = false, cluster = false, help = false;
  std::string scenarios = "baseline,warm,cold,transactional,paced";
  int trials = 200;
};

std::optional<Flags> parse_flags(int argc, char** argv, int first, std::string_view allowed) {
  Flags f;
  auto allows = [&](std::string_view word) { return allowed.find(word) != std::string_view::npos; };
  for (int i = first; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      f.json = true;
    } else if (a == "--help") {
      f.help = true;
    } else if (a == "--quick" && allows(a)) {
      f.quick = true;
    } else if (a == "--cluster" && allows(a)) {
      f.cluster = true;
    } else if (a == "--scenarios" && allows(a) && i + 1 < argc) {
      f.scenarios = argv[++i];
    } else if (allows("TRIALS") && a.find_first_not_of("0123456789") == std::string::npos &&
               !a.empty()) {
      f.trials = std::stoi(a);
    } else {
      return std::nullopt;
    }
  }
  return f;
}

// The usage: on stdout for --help (exit 0), on stderr for a mistake (exit 2).
int usage(bool help) {
  std::fputs(kUsage, help ? stdout : stderr);
  return help ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "forwarder") == 0) return run_forwarder(argv[2], argv[3]);
  if (argc == 2 && std::strcmp(argv[1], "sigkill") == 0) return run_sigkill_measurement();
  const std::string command = argc >= 2 ? argv[1] : "";
  if (command == "propagation") {
    const auto f = parse_flags(argc, argv, 2, "TRIALS --cluster");
    if (!f || f->help) return usage(f.has_value());
    return run_propagation(f->trials, f->cluster, f->json);
  }
  if (command == "cluster") {
    const auto f = parse_flags(argc, argv, 2, "--quick");
    if (!f || f->help) return usage(f.has_value());
    return run_cluster_bench(f->quick, f->json);
  }
  if (command == "addresses") {
    const auto f = parse_flags(argc, argv, 2, "--quick");
    if (!f || f->help) return usage(f.has_value());
    return run_address_bench(f->quick, f->json);
  }
  if (command == "import") {
    const auto f = parse_flags(argc, argv, 2, "TRIALS");
    if (!f || f->help) return usage(f.has_value());
    const bool given =
        argc > 2 && std::string(argv[2]).find_first_not_of("0123456789") == std::string::npos;
    return run_import_bench(given ? std::stoull(argv[2]) : 1'000'000, f->json);
  }
  if (command == "soak") {
    return run_soak(argc > 2 ? std::stod(argv[2]) : 10.0,
                    argc > 3 ? static_cast<unsigned>(std::stoul(argv[3])) : 20000,
                    argc > 4 ? static_cast<unsigned>(std::stoul(argv[4])) : 60);
  }
  const auto flags = parse_flags(argc, argv, 1, "--quick --scenarios");
  if (!flags || flags->help) return usage(flags.has_value());
  const bool quick = flags->quick, as_json = flags->json;
  const std::string scenarios = flags->scenarios;
  auto want = [&](const char* s) { return scenarios.find(s) != std::string::npos; };
  const std::uint64_t scale = quick ? 10 : 1;
  const std::uint64_t kMessages = 1'000'000 / scale;
  const std::uint64_t kPeople = 100'000;
  const std::uint64_t kColdPeople = 1'000'000 / scale;
  const std::uint64_t kPacedRate = 100'000;
  const std::uint64_t kPacedMessages = 500'000 / scale;

  zmq::context_t ctx(1);
  Backend redis(false);
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
  seed(redis.config(), 0, kPeople, 10);
  test::GatekeeperOptions opts;
  redis.configure(opts);
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
    seed(redis.config(), first, kColdPeople, 10);
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

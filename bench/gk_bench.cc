// gk-bench: throughput and latency of the gatekeeper against a bare ZeroMQ forwarder,
// both measured in the same run on the same machine. See docs/PERFORMANCE.md.
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "bench/address_bench.h"
#include "bench/cluster_bench.h"
#include "bench/forwarder.h"
#include "bench/import_bench.h"
#include "bench/links_bench.h"
#include "bench/propagation.h"
#include "bench/scenarios.h"
#include "bench/screen_bench.h"
#include "bench/sigkill.h"
#include "bench/soak.h"

using namespace gk;
using namespace gk::bench;

namespace {

constexpr const char* kUsage =
    R"(Usage: gk-bench [--quick] [--json] [--runs N] [--scenarios a,b,...]
       gk-bench soak [MINUTES [RATE [RESTART_EVERY_S]]]
       gk-bench propagation [TRIALS] [--cluster] [--json]
       gk-bench cluster [--quick] [--json]
       gk-bench links [--quick] [--json]
       gk-bench import [ROWS] [--cluster] [--erasure] [--runs N] [--json]
       gk-bench addresses [--quick] [--json] [--runs N]
       gk-bench sigkill
       gk-bench forwarder IN OUT

Runs the scenarios (default warm,warm-id,cold,cold-leads,paced,warm-1m; transactional on request), each
N times (default 3) interleaved with the baseline, a bare zero-copy forwarding loop sent
the same load: medians of messages/s, CPU time per message of the forwarding process,
p50/p99/p999 end-to-end latency, and the ratios gatekeeper/baseline.
  warm           realistic header (user.id + user.email + user.bu, to = the email), 100,000
                 people in Redis (10 % opted out of MAIL), every one cached
  warm-id        the same with an id-only header (one record to find instead of three)
  cold           every message a person never seen (most people: no lead record or link
                 for their email, so one Redis read each)
  cold-leads     the same, every email with a lead record (three Redis reads each)
  paced          warm at a fixed 100,000 msg/s, for latency
  warm-1m        realistic header over 1,000,000 people, the product's default config
  transactional  warm, every message realtime transactional
  topic          warm, campaign.topic on every message (on request; compare with warm)
  --quick       a tenth of the messages (a smoke run, not for the record)
  --runs N      runs per scenario (default 3; the medians need at least 3)
  --json        print the results as JSON on stdout (progress stays on stderr)

propagation: two gatekeepers on one Redis, how fast an opt-out made through one (API PUT)
or by another Redis client (HSET) reaches the other's cache, p50/p99/max over TRIALS
(default 200). --cluster: on a Redis Cluster of 3 primaries instead of one redis-server.

cluster: two gatekeepers loaded at the same time, each by its own sender, once on one
redis-server and once on a Redis Cluster of 3 primaries: warm (cached people) and cold
(every message a store read); aggregate msg/s, CPU, p50/p99, each sidecar's figures and the
cluster/single ratio. --quick: a tenth of the messages.

addresses: the warm load (realistic header, 100,000 cached people) without any suppressed
address or erasure tombstone, then with 10,000 suppressed addresses and 100 tombstones that
no message matches: medians of msg/s, CPU per message and p99, and the on/off ratios.
--quick: a tenth of the messages.

links: unsubscribe links issued per second by POST /unsubscribe-links (1000 a call, two
client threads), and token sealing alone. --quick: a tenth of the calls.

import: gatekeeper-ctl import of ROWS CSV rows (default 1000000; users, leads and addresses,
a bad row every 1,000) into an empty store, N runs (default 3): median rows/s end to end,
and whether every bad row was reported, the exit status was 1 and every good row stored.
--cluster: on a Redis Cluster of 3 primaries instead of one redis-server. --erasure: with
erasure.salt set, so every row is checked against the erasure tombstones.
)";

// The words after the command: --json always, and those of `allowed` among --quick, --cluster,
// --scenarios LIST and a number (TRIALS).
struct Flags {
  bool quick = false, json = false, cluster = false, help = false, erasure = false;
  std::string scenarios = ScenarioOptions{}.scenarios;
  int trials = 200;
  int runs = ScenarioOptions{}.runs;
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
    } else if (a == "--erasure" && allows(a)) {
      f.erasure = true;
    } else if (a == "--scenarios" && allows(a) && i + 1 < argc) {
      f.scenarios = argv[++i];
    } else if (a == "--runs" && allows(a) && i + 1 < argc) {
      const std::string n = argv[++i];
      if (n.empty() || n.size() > 3 || n.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(n) < 1) {
        std::fprintf(stderr, "gk-bench: --runs wants a number from 1 to 999, not '%s'\n",
                     n.c_str());
        return std::nullopt;
      }
      f.runs = std::stoi(n);
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
  if (command == "import") {
    const auto f = parse_flags(argc, argv, 2, "TRIALS --cluster --runs --erasure");
    if (!f || f->help) return usage(f.has_value());
    const bool given = argc > 2 && argv[2][0] != '\0' &&
                       std::string(argv[2]).find_first_not_of("0123456789") == std::string::npos;
    return run_import_bench(given ? std::stoull(argv[2]) : 1'000'000, f->runs, f->cluster,
                            f->erasure, f->json);
  }
  if (command == "links") {
    const auto f = parse_flags(argc, argv, 2, "--quick");
    if (!f || f->help) return usage(f.has_value());
    return run_links_bench(f->quick, f->json);
  }
  if (command == "addresses") {
    const auto f = parse_flags(argc, argv, 2, "--quick --runs");
    if (!f || f->help) return usage(f.has_value());
    return run_address_bench(f->quick, f->json, f->runs);
  }
  if (command == "screen") {
    const auto f = parse_flags(argc, argv, 2, "--quick");
    if (!f || f->help) return usage(f.has_value());
    return run_screen_bench(f->quick, f->json);
  }
  if (command == "cluster") {
    const auto f = parse_flags(argc, argv, 2, "--quick");
    if (!f || f->help) return usage(f.has_value());
    return run_cluster_bench(f->quick, f->json);
  }
  if (command == "soak") {
    return run_soak(argc > 2 ? std::stod(argv[2]) : 10.0,
                    argc > 3 ? static_cast<unsigned>(std::stoul(argv[3])) : 20000,
                    argc > 4 ? static_cast<unsigned>(std::stoul(argv[4])) : 60);
  }
  const auto flags = parse_flags(argc, argv, 1, "--quick --scenarios --runs");
  if (!flags || flags->help) return usage(flags.has_value());
  ScenarioOptions options;
  options.quick = flags->quick;
  options.json = flags->json;
  options.scenarios = flags->scenarios;
  options.runs = flags->runs;
  try {
    return run_scenarios(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gk-bench: %s\n", e.what());
    return 1;
  }
}

#include "bench/screen_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "bench/load.h"
#include "gatekeeper/admission/admission.h"

namespace gk::bench {

namespace {

constexpr std::size_t kPool = 4096;  // distinct headers: more than the L1 holds, like a run

double ns_per_screen(AdmissionStep& step, std::vector<PendingMessage>& pool, std::size_t rounds,
                     std::size_t& kept) {
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t r = 0; r < rounds; ++r) {
    for (PendingMessage& p : pool) {
      kept += step.screen(p).kind == Admission::Kind::kNeedsFetch ? 1 : 0;
    }
  }
  const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
  return took.count() / static_cast<double>(rounds * pool.size());
}

}  // namespace

int run_screen_bench(bool quick, bool as_json) {
  const ChannelRegistry channels({ChannelConfig{"MAIL", {"EMAIL"}, "tcp://127.0.0.1:1", true}});
  AdmissionStep step(channels, 64 * 1024, 16, false);
  std::vector<PendingMessage> pool(kPool);
  const std::string payload(512, 'x');
  for (std::size_t i = 0; i < kPool; ++i) {
    const std::string h = make_header(i, 1'000'000 + i * 7919, false, HeaderKind::kRealistic);
    pool[i].frames.emplace_back(h.data(), h.size());
    pool[i].frames.emplace_back(payload.data(), payload.size());
  }
  const std::size_t rounds = quick ? 50 : 500;
  std::size_t kept = 0;
  (void)ns_per_screen(step, pool, rounds / 10, kept);  // warm up
  std::vector<double> runs;
  for (int i = 0; i < 5; ++i) runs.push_back(ns_per_screen(step, pool, rounds, kept));
  std::sort(runs.begin(), runs.end());
  if (kept == 0) {
    std::fprintf(stderr, "screen bench: no header passed the screen\n");
    return 1;
  }
  if (as_json) {
    std::printf("{\"screen_ns_median\": %.1f, \"screen_ns_min\": %.1f}\n", runs[2], runs[0]);
  } else {
    std::printf(
        "screen (decode, checks, channel, e-mail), realistic header: median %.1f ns, "
        "min %.1f ns per message (5 runs of %zu)\n",
        runs[2], runs[0], rounds * kPool);
  }
  return 0;
}

}  // namespace gk::bench

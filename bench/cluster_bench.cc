#include "bench/cluster_bench.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/backend.h"
#include "bench/load.h"
#include "bench/measure.h"
#include "tests/support/gatekeeper_process.h"

namespace gk::bench {

namespace {

using nlohmann::json;

constexpr std::size_t kSidecars = 2;
constexpr std::uint64_t kColdFirst = 10'000'000;

struct Sizes {
  std::uint64_t people = 100'000;           // the warm population, shared by both sidecars
  std::uint64_t warm_messages = 1'000'000;  // per sidecar
  std::uint64_t cold_people = 1'000'000;    // per sidecar, one message each
};

// One scenario on one Redis: both sidecars as one (every message, first send to last
// receive, CPU of both gatekeepers) and each on its own.
struct Run {
  std::string backend;
  std::string scenario;
  std::string load_averages;  // when it started
  Row all;
  std::vector<Row> sidecars;
  Counters counters;  // over the run, both gatekeepers
  Counters tracking;  // Redis' client-tracking table at the end of the run
};

// Seeds the Redis, starts two gatekeepers on it, warms both caches and measures both
// scenarios.
std::vector<Run> bench_backend(bool cluster, const Sizes& n) {
  Backend redis(cluster);
  std::fprintf(stderr, "%s: %s\n", redis.name(), redis.describe().c_str());
  std::fprintf(stderr, "%s: seeding %llu people and %llu more for the cold runs (10%% opted out)\n",
               redis.name(), static_cast<unsigned long long>(n.people),
               static_cast<unsigned long long>(kSidecars * n.cold_people));
  seed(redis.config(), 0, n.people, 10);
  seed(redis.config(), kColdFirst, kSidecars * n.cold_people, 10);
  long long keys = 0;
  for (const auto& [port, count] : redis.keys_per_node()) {
    std::fprintf(stderr, "%s: node %d holds %lld keys\n", redis.name(), port, count);
    keys += count;
  }
  if (keys != static_cast<long long>(n.people + kSidecars * n.cold_people)) {
    throw std::runtime_error(std::string(redis.name()) + ": " + std::to_string(keys) +
                             " keys after seeding");
  }

  std::vector<std::unique_ptr<test::GatekeeperProcess>> gatekeepers;
  std::vector<int> http_ports;
  std::vector<LoadSpec> base(kSidecars);
  for (std::size_t i = 0; i < kSidecars; ++i) {
    test::GatekeeperOptions o;
    redis.configure(o);
    o.log_level = "warn";
    o.cache_max_entries = 4'000'000;
    gatekeepers.push_back(std::make_unique<test::GatekeeperProcess>(o));
    http_ports.push_back(o.http_port);
  }
  for (std::size_t i = 0; i < kSidecars; ++i) {
    auto& gk = *gatekeepers[i];
    if (!gk.wait_ready()) throw std::runtime_error("gatekeeper did not start:\n" + gk.log());
    base[i].ingress = gk.messages();
    base[i].sinks = {gk.mail(), gk.decisions()};
    base[i].people = n.people;
    // Kept on the id-only header its published figures were measured with (issue 16 moves
    // only the main scenarios to the realistic one).
    base[i].header = HeaderKind::kIdOnly;
  }
  {
    // Warm both caches at once: every person once through each sidecar.
    std::vector<LoadSpec> warmup = base;
    for (auto& s : warmup) {
      s.messages = n.people;
      s.sequential_people = true;
      s.progress = false;
    }
    (void)run_loads(warmup);
  }

  auto run = [&](const std::string& scenario, std::vector<LoadSpec> specs) {
    Run r;
    r.backend = redis.name();
    r.scenario = scenario;
    r.load_averages = load_averages();
    const std::string name = r.backend + " " + scenario;
    std::fprintf(stderr, "%s: %llu messages per sidecar, load average %s\n", name.c_str(),
                 static_cast<unsigned long long>(specs[0].messages), r.load_averages.c_str());
    std::vector<double> cpu(kSidecars);
    for (std::size_t i = 0; i < kSidecars; ++i) {
      specs[i].label = name + " gk" + std::to_string(i + 1);
      cpu[i] = cpu_seconds(gatekeepers[i]->process().pid());
    }
    const Counters before = store_counters(http_ports);
    std::vector<std::size_t> logged(kSidecars);
    for (std::size_t i = 0; i < kSidecars; ++i) logged[i] = gatekeepers[i]->log().size();
    std::vector<LoadResult> results = run_loads(specs);
    double cpu_all = 0;
    for (std::size_t i = 0; i < kSidecars; ++i) {
      cpu[i] = cpu_seconds(gatekeepers[i]->process().pid()) - cpu[i];
      cpu_all += cpu[i];
    }
    LoadResult all = combine(results);
    r.all = make_row(name + " both", all, cpu_all);
    for (std::size_t i = 0; i < kSidecars; ++i) {
      r.sidecars.push_back(make_row(specs[i].label, results[i], cpu[i]));
    }
    r.counters = difference(store_counters(http_ports), before);
    r.tracking = redis.tracking();
    std::fprintf(stderr, "%s: %s; Redis: %s\n", name.c_str(), describe(r.counters).c_str(),
                 describe(r.tracking).c_str());
    for (std::size_t i = 0; i < kSidecars; ++i) {
      // Warnings and errors only (log level warn): what went wrong during the run.
      const std::string log = gatekeepers[i]->log();
      if (log.size() > logged[i]) {
        std::fprintf(stderr, "%s gk%zu logged:\n%s", name.c_str(), i + 1,
                     log.substr(logged[i]).c_str());
      }
    }
    return r;
  };

  std::vector<LoadSpec> warm = base, cold = base;
  for (std::size_t i = 0; i < kSidecars; ++i) {
    warm[i].messages = n.warm_messages;
    cold[i].messages = n.cold_people;
    cold[i].first_person = kColdFirst + i * n.cold_people;
    cold[i].sequential_people = true;
  }
  std::vector<Run> runs;
  runs.push_back(run("warm", warm));
  runs.push_back(run("cold", cold));
  return runs;
}

// The figures a table row shows, in column order.
std::vector<double> columns(const Run& r) {
  std::vector<double> c = {r.all.msgs_per_s, r.all.cpu_us_per_msg, r.all.p50, r.all.p99};
  for (const auto& s : r.sidecars) c.insert(c.end(), {s.msgs_per_s, s.p50, s.p99});
  return c;
}

json row_json(const Row& r) {
  return {{"messages", r.messages},
          {"msgs_per_s", r.msgs_per_s},
          {"cpu_us_per_msg", r.cpu_us_per_msg},
          {"p50_us", r.p50},
          {"p99_us", r.p99},
          {"p999_us", r.p999}};
}

}  // namespace

int run_cluster_bench(bool quick, bool as_json) {
  Sizes n;
  if (quick) {
    n.warm_messages /= 10;
    n.cold_people /= 10;
  }
  std::vector<Run> runs;
  for (bool cluster : {false, true}) {
    for (auto& r : bench_backend(cluster, n)) runs.push_back(std::move(r));
  }

  // runs: single warm, single cold, cluster warm, cluster cold.
  const std::size_t kScenarios = runs.size() / 2;
  json out = {{"runs", json::array()}, {"ratios", json::array()}};
  for (const auto& r : runs) {
    json j = row_json(r.all);
    j["backend"] = r.backend;
    j["scenario"] = r.scenario;
    j["load_averages"] = r.load_averages;
    j["sidecars"] = json::array();
    for (const auto& s : r.sidecars) j["sidecars"].push_back(row_json(s));
    j["counters"] = r.counters;
    j["redis_tracking"] = r.tracking;
    out["runs"].push_back(std::move(j));
  }
  if (!as_json) {
    std::printf("%-8s %-14s %9s %10s %10s %10s %10s", "scenario", "redis", "messages", "msg/s",
                "CPU us/msg", "p50 us", "p99 us");
    for (std::size_t i = 1; i <= kSidecars; ++i) {
      std::printf(" %9s%zu %9s%zu %9s%zu", "msg/s gk", i, "p50 gk", i, "p99 gk", i);
    }
    std::printf("  load average\n");
  }
  // Figures as "%10.0f" but the CPU column, ratios all as "%10.2f".
  auto print = [&](const std::string& scenario, const std::string& redis, const std::string& count,
                   const std::vector<double>& c, bool ratios, const std::string& load) {
    std::printf("%-8s %-14s %9s", scenario.c_str(), redis.c_str(), count.c_str());
    for (std::size_t i = 0; i < c.size(); ++i)
      std::printf(ratios || i == 1 ? " %10.2f" : " %10.0f", c[i]);
    std::printf("  %s\n", load.c_str());
  };
  for (std::size_t s = 0; s < kScenarios; ++s) {
    const Run& single = runs[s];
    const Run& cluster = runs[kScenarios + s];
    const std::vector<double> a = columns(single), b = columns(cluster);
    std::vector<double> ratio;
    for (std::size_t i = 0; i < a.size(); ++i) ratio.push_back(a[i] > 0 ? b[i] / a[i] : 0);
    out["ratios"].push_back({{"scenario", single.scenario},
                             {"msgs_per_s", ratio[0]},
                             {"cpu_us_per_msg", ratio[1]},
                             {"p50_us", ratio[2]},
                             {"p99_us", ratio[3]}});
    if (as_json) continue;
    for (const Run* r : {&single, &cluster}) {
      print(r->scenario, r->backend, std::to_string(r->all.messages), columns(*r), false,
            r->load_averages);
    }
    print(single.scenario, "cluster/single", "", ratio, true, "");
  }
  if (as_json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf(
      "\nStore counters over each run, both gatekeepers added up; Redis' tracking table "
      "after it:\n");
  for (const auto& r : runs) {
    std::printf("%-8s %-8s %s; %s\n", r.scenario.c_str(), r.backend.c_str(),
                describe(r.counters).c_str(), describe(r.tracking).c_str());
  }
  return 0;
}

}  // namespace gk::bench

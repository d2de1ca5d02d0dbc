#include "bench/scenarios.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "bench/backend.h"
#include "bench/load.h"
#include "bench/measure.h"
#include "common/config/config.h"
#include "tests/support/gatekeeper_process.h"
#include "tests/support/ports.h"

namespace gk::bench {

namespace {

using nlohmann::json;

constexpr std::uint64_t kPeople = 100'000;
constexpr std::uint64_t kBigPeople = 1'000'000;
constexpr std::uint64_t kColdFirst = 10'000'000;
constexpr std::uint64_t kColdLeadsFirst = 20'000'000;
constexpr std::uint64_t kPacedRate = 100'000;
constexpr std::uint64_t kOptOutEvery = 10;

// One scenario: what the sender sends in run `run` (endpoints left empty: the same spec goes
// to the baseline and to the gatekeeper).
struct Scenario {
  Scenario(std::string n, std::string d, std::function<LoadSpec(int)> s)
      : name(std::move(n)), description(std::move(d)), spec(std::move(s)) {}
  std::string name;
  std::string description;
  std::function<LoadSpec(int run)> spec;
  std::vector<Row> gatekeeper, baseline;
};

// The median of each figure on its own over the runs.
Row median(const std::vector<Row>& rows, const std::string& name) {
  Row m;
  m.name = name;
  if (rows.empty()) return m;
  auto mid = [&](auto field) {
    std::vector<double> v;
    for (const auto& r : rows) v.push_back(static_cast<double>(r.*field));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  m.messages = static_cast<std::uint64_t>(mid(&Row::messages));
  m.msgs_per_s = mid(&Row::msgs_per_s);
  m.cpu_us_per_msg = mid(&Row::cpu_us_per_msg);
  m.p50 = mid(&Row::p50);
  m.p99 = mid(&Row::p99);
  m.p999 = mid(&Row::p999);
  m.misses_per_msg = mid(&Row::misses_per_msg);
  return m;
}

double ratio(double a, double b) {
  return b > 0 ? a / b : 0;
}

// Runs each scenario `runs` times through the gatekeeper and through the forwarder in turn,
// the order swapped every run so that a drift of the machine's load favours neither.
void measure_interleaved(std::vector<Scenario*>& scenarios, int runs, zmq::context_t& ctx,
                         pid_t forwarder, const std::string& forwarder_in,
                         const std::string& forwarder_out, test::GatekeeperProcess& gk) {
  const pid_t gk_pid = gk.process().pid();
  for (int run = 0; run < runs; ++run) {
    for (Scenario* s : scenarios) {
      LoadSpec through_gk = s->spec(run);
      through_gk.ingress = gk.messages();
      through_gk.sinks = {gk.mail(), gk.decisions()};
      LoadSpec through_fwd = s->spec(run);
      through_fwd.ingress = forwarder_in;
      through_fwd.sinks = {forwarder_out};
      const std::string tag = " run " + std::to_string(run + 1);
      auto gk_run = [&] {
        // Cache misses from /metrics: "warm" has to be warm for its figures to mean anything.
        const std::vector<int> http = {gk.options().http_port};
        const Counters before = store_counters(http);
        Row row = measure(s->name + tag, ctx, through_gk, gk_pid);
        const Counters delta = difference(store_counters(http), before);
        row.misses_per_msg =
            row.messages ? delta.at("gk_cache_misses_total") / static_cast<double>(row.messages)
                         : 0;
        std::fprintf(stderr, "%s: %.2f cache misses per message\n", row.name.c_str(),
                     row.misses_per_msg);
        s->gatekeeper.push_back(row);
      };
      auto fwd_run = [&] {
        s->baseline.push_back(measure("baseline " + s->name + tag, ctx, through_fwd, forwarder));
      };
      if (run % 2 == 0) {
        fwd_run();
        gk_run();
      } else {
        gk_run();
        fwd_run();
      }
    }
  }
}

// Every person of [first, first + count) once, so that the measured runs find them cached.
void warm_up(zmq::context_t& ctx, test::GatekeeperProcess& gk, std::uint64_t first,
             std::uint64_t count) {
  std::fprintf(stderr, "warming the cache: %llu people\n", static_cast<unsigned long long>(count));
  LoadSpec s;
  s.ingress = gk.messages();
  s.sinks = {gk.mail(), gk.decisions()};
  s.messages = count;
  s.first_person = first;
  s.people = count;
  s.sequential_people = true;
  s.label = "warm-up";
  (void)run_load(ctx, s, std::chrono::seconds(30));
}

std::unique_ptr<test::GatekeeperProcess> start_gatekeeper(test::GatekeeperOptions opts) {
  auto gk = std::make_unique<test::GatekeeperProcess>(std::move(opts));
  if (!gk->wait_ready(200, std::chrono::seconds(30))) {
    throw std::runtime_error("gatekeeper did not start:\n" + gk->log());
  }
  return gk;
}

}  // namespace

int run_scenarios(const ScenarioOptions& o) {
  const std::uint64_t scale = o.quick ? 10 : 1;
  const std::uint64_t warm_messages = 500'000 / scale;
  const std::uint64_t cold_messages = 200'000 / scale;
  const std::uint64_t paced_messages = 300'000 / scale;
  const std::uint64_t big_messages = 1'000'000 / scale;
  const int runs = o.runs;

  std::vector<std::string> wanted;
  {
    std::istringstream list(o.scenarios);
    for (std::string w; std::getline(list, w, ',');) wanted.push_back(w);
  }
  auto want = [&](const std::string& s) {
    return std::find(wanted.begin(), wanted.end(), s) != wanted.end();
  };
  const std::vector<std::string> known = {"warm",       "warm-id", "topic",         "cold",
                                          "cold-leads", "paced",   "transactional", "warm-1m"};
  for (const auto& w : wanted) {
    if (std::find(known.begin(), known.end(), w) == known.end()) {
      std::fprintf(stderr,
                   "gk-bench: unknown scenario '%s' (known: warm, warm-id, topic, cold, "
                   "cold-leads, paced, transactional, warm-1m)\n",
                   w.c_str());
      return 2;
    }
  }

  auto random_over = [](std::uint64_t people, std::uint64_t messages) {
    LoadSpec s;
    s.people = people;
    s.messages = messages;
    return s;
  };
  Scenario warm{"warm", "realistic header, 100k people, all cached",
                [&](int) { return random_over(kPeople, warm_messages); }};
  Scenario warm_id{"warm-id", "id-only header, 100k people, all cached", [&](int) {
                     LoadSpec s = random_over(kPeople, warm_messages);
                     s.header = HeaderKind::kIdOnly;
                     return s;
                   }};
  // The topic rule must cost no Redis read and no second cache probe: a person's topic bits
  // come with their record.
  Scenario topic{"topic", "warm, campaign.topic on every message", [&](int) {
                   LoadSpec s = random_over(kPeople, warm_messages);
                   s.topic = "newsletter";
                   return s;
                 }};
  Scenario transactional{"transactional", "warm, every message realtime transactional", [&](int) {
                           LoadSpec s = random_over(kPeople, warm_messages);
                           s.transactional = true;
                           return s;
                         }};
  Scenario paced{"paced", "warm at a fixed 100,000 msg/s", [&](int) {
                   LoadSpec s = random_over(kPeople, paced_messages);
                   s.rate = kPacedRate;
                   return s;
                 }};
  Scenario cold{"cold", "every message a person never seen", [&](int run) {
                  LoadSpec s = random_over(cold_messages, cold_messages);
                  s.first_person = kColdFirst + static_cast<std::uint64_t>(run) * cold_messages;
                  s.sequential_people = true;
                  return s;
                }};
  // The same for people whose emails each have a lead record (as after a status change by
  // email): the email index cannot rule their email out, so each costs three Redis reads.
  Scenario cold_leads{"cold-leads", "cold, every email with a lead record", [&](int run) {
                        LoadSpec s = random_over(cold_messages, cold_messages);
                        s.first_person =
                            kColdLeadsFirst + static_cast<std::uint64_t>(run) * cold_messages;
                        s.sequential_people = true;
                        return s;
                      }};
  Scenario big{"warm-1m", "realistic header, 1M people, default config",
               [&](int) { return random_over(kBigPeople, big_messages); }};

  zmq::context_t ctx(1);
  Backend redis(false);
  test::TempDir dir;
  const std::string load_before = load_averages();
  std::fprintf(stderr, "load average before: %s\n", load_before.c_str());

  // The baseline process, alive for the whole run; only its CPU deltas count.
  const int fwd_in = test::free_port(), fwd_out = test::free_port();
  test::Process forwarder(
      {"/proc/self/exe", "forwarder", test::tcp_endpoint(fwd_in), test::tcp_endpoint(fwd_out)},
      dir.file("forwarder.log"));

  std::fprintf(stderr, "seeding %llu people (1 in %llu opted out of MAIL)\n",
               static_cast<unsigned long long>(kPeople),
               static_cast<unsigned long long>(kOptOutEvery));
  seed(redis.config(), 0, kPeople, kOptOutEvery);

  // In the order of the table; all but warm-1m share one gatekeeper.
  const std::vector<Scenario*> all = {&warm, &warm_id,    &topic, &transactional,
                                      &cold, &cold_leads, &paced, &big};
  std::vector<Scenario*> small;
  for (Scenario* s : all) {
    if (s != &big && want(s->name)) small.push_back(s);
  }
  if (!small.empty()) {
    if (want("cold")) {
      std::fprintf(stderr, "seeding %llu never-seen people for the cold runs\n",
                   static_cast<unsigned long long>(cold_messages * runs));
      seed(redis.config(), kColdFirst, cold_messages * static_cast<std::uint64_t>(runs),
           kOptOutEvery);
    }
    if (want("cold-leads")) {
      std::fprintf(stderr, "seeding %llu never-seen people with lead records\n",
                   static_cast<unsigned long long>(cold_messages * runs));
      seed(redis.config(), kColdLeadsFirst, cold_messages * static_cast<std::uint64_t>(runs),
           kOptOutEvery, true);
    }
    // Room for everyone (cold runs included): "warm" means every person cached.
    test::GatekeeperOptions opts;
    redis.configure(opts);
    opts.log_level = "warn";
    opts.cache_max_entries = 4'000'000;
    // A topic for the "topic" scenario; messages without one never look at it.
    opts.extra_toml = "[topics.newsletter]\n";
    auto gk = start_gatekeeper(opts);
    warm_up(ctx, *gk, 0, kPeople);
    measure_interleaved(small, runs, ctx, forwarder.pid(), test::tcp_endpoint(fwd_in),
                        test::tcp_endpoint(fwd_out), *gk);
  }
  if (want("warm-1m")) {
    std::fprintf(stderr, "seeding people up to %llu\n",
                 static_cast<unsigned long long>(kBigPeople));
    seed(redis.config(), kPeople, kBigPeople - kPeople, kOptOutEvery);
    // The product's defaults where the test harness has its own (cache size, log level).
    test::GatekeeperOptions opts;
    redis.configure(opts);
    opts.cache_max_entries = static_cast<int>(CacheConfig{}.max_entries);
    opts.log_level = LogConfig{}.level;
    auto gk = start_gatekeeper(opts);
    warm_up(ctx, *gk, 0, kBigPeople);
    std::vector<Scenario*> one = {&big};
    measure_interleaved(one, runs, ctx, forwarder.pid(), test::tcp_endpoint(fwd_in),
                        test::tcp_endpoint(fwd_out), *gk);
  }
  const std::string load_after = load_averages();
  std::fprintf(stderr, "load average after: %s\n", load_after.c_str());

  json out = {{"runs", runs},
              {"quick", o.quick},
              {"load_before", load_before},
              {"load_after", load_after},
              {"scenarios", json::array()}};
  if (!o.json) {
    std::printf("medians of %d runs; load average before %s, after %s\n", runs, load_before.c_str(),
                load_after.c_str());
    std::printf("%-18s %9s %9s %8s %9s %9s %9s %8s %7s %7s %9s\n", "scenario", "messages", "msg/s",
                "CPU us", "p50 us", "p99 us", "p999 us", "x msg/s", "x CPU", "x p99", "miss/msg");
  }
  for (Scenario* s : all) {
    if (s->gatekeeper.empty()) continue;
    const Row g = median(s->gatekeeper, s->name);
    const Row b = median(s->baseline, "  baseline");
    const double rt = ratio(g.msgs_per_s, b.msgs_per_s);
    const double rc = ratio(g.cpu_us_per_msg, b.cpu_us_per_msg);
    const double rp = ratio(g.p99, b.p99);
    if (!o.json) {
      for (const Row* r : {&b, &g}) {
        std::printf("%-18s %9llu %9.0f %8.2f %9.0f %9.0f %9.0f", r->name.c_str(),
                    static_cast<unsigned long long>(r->messages), r->msgs_per_s, r->cpu_us_per_msg,
                    r->p50, r->p99, r->p999);
        if (r == &g) {
          std::printf(" %8.2f %7.2f %7.2f %9.2f\n", rt, rc, rp, g.misses_per_msg);
        } else {
          std::printf("\n");
        }
      }
    }
    auto figures = [](const Row& r) {
      return json{{"messages", r.messages},
                  {"msgs_per_s", r.msgs_per_s},
                  {"cpu_us_per_msg", r.cpu_us_per_msg},
                  {"p50_us", r.p50},
                  {"p99_us", r.p99},
                  {"p999_us", r.p999}};
    };
    out["scenarios"].push_back({{"scenario", s->name},
                                {"description", s->description},
                                {"gatekeeper", figures(g)},
                                {"baseline", figures(b)},
                                {"ratio_msgs_per_s", rt},
                                {"ratio_cpu", rc},
                                {"ratio_p99", rp},
                                {"cache_misses_per_msg", g.misses_per_msg}});
  }
  if (!warm.gatekeeper.empty() && !topic.gatekeeper.empty()) {
    // What the topic rule costs: the same load, with and without campaign.topic.
    const Row w = median(warm.gatekeeper, "warm"), t = median(topic.gatekeeper, "topic");
    const double speed = ratio(t.msgs_per_s, w.msgs_per_s);
    const double cpu = ratio(t.cpu_us_per_msg, w.cpu_us_per_msg);
    out["topic_vs_warm"] = {{"ratio_msgs_per_s", speed}, {"ratio_cpu", cpu}};
    if (!o.json) std::printf("topic against warm: msg/s x%.3f, CPU x%.3f\n", speed, cpu);
  }
  if (o.json) std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace gk::bench

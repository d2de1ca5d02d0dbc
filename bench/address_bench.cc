#include "bench/address_bench.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "bench/backend.h"
#include "bench/load.h"
#include "bench/measure.h"
#include "tests/support/gatekeeper_process.h"
#include "tests/support/ports.h"
#include "tests/support/process.h"

namespace gk::bench {

using nlohmann::json;

int run_address_bench(bool quick, bool as_json) {
  const std::uint64_t messages = quick ? 100'000 : 1'000'000, people = 100'000;
  zmq::context_t ctx(1);
  Backend redis(false);
  seed(redis.config(), 0, people, 10);
  test::GatekeeperOptions opts;
  redis.configure(opts);
  opts.log_level = "warn";
  opts.cache_max_entries = 4'000'000;
  opts.extra_toml = "[erasure]\nsalt = \"bench-salt-bench-salt-bench-salt-bench\"\n";
  test::GatekeeperProcess gk(opts);
  if (!gk.wait_ready()) {
    std::cerr << "gatekeeper did not start:\n" << gk.log();
    return 1;
  }
  LoadSpec base;
  base.ingress = gk.messages();
  base.sinks = {gk.mail(), gk.decisions()};
  base.people = people;
  {
    LoadSpec warm = base;
    warm.messages = people;
    warm.sequential_people = true;
    warm.progress = false;
    (void)run_load(ctx, warm);
  }
  const pid_t pid = gk.process().pid();
  std::vector<Row> rows;
  LoadSpec s = base;
  s.messages = messages;
  rows.push_back(measure("addresses-off", ctx, s, pid));
  std::fprintf(stderr, "suppressing 10000 addresses, 100 tombstones\n");
  for (int i = 0; i < 10000; ++i) {
    const std::string key = "gk:a:MAIL:nobody-" + std::to_string(i) + "@example.org";
    redis.command(key, {"HSET", key, "suppressed", "1", "reason", "bounce", "suppressed:ts", "1"});
  }
  for (int i = 0; i < 100; ++i) {
    const std::string key = "gk:t:" + std::to_string(i);
    redis.command(key, {"HSET", key, "erased:ts", "1"});
  }
  // The book follows by tracking; a short warm pass lets it settle.
  {
    LoadSpec settle = base;
    settle.messages = 10000;
    settle.progress = false;
    (void)run_load(ctx, settle);
  }
  rows.push_back(measure("addresses-on", ctx, s, pid));
  rows.back().against = "addresses-off";
  const double ratio = rows[1].msgs_per_s / rows[0].msgs_per_s;
  if (as_json) {
    std::cout << json{{"off_msgs_per_s", rows[0].msgs_per_s},
                      {"on_msgs_per_s", rows[1].msgs_per_s},
                      {"off_p99_us", rows[0].p99},
                      {"on_p99_us", rows[1].p99},
                      {"ratio", ratio}}
                     .dump(2)
              << "\n";
  } else {
    for (const Row& r : rows) {
      std::printf("%-15s %10.0f msg/s  CPU %6.2f us/msg  p50 %6.0f us  p99 %6.0f us\n",
                  r.name.c_str(), r.msgs_per_s, r.cpu_us_per_msg, r.p50, r.p99);
    }
    std::printf("on/off msg/s ratio %.3f\n", ratio);
  }
  return 0;
}

int run_import_bench(std::uint64_t rows, bool as_json) {
  Backend redis(false);
  test::GatekeeperOptions opts;
  redis.configure(opts);
  opts.log_level = "warn";
  test::GatekeeperProcess gk(opts);
  if (!gk.wait_ready()) {
    std::cerr << "gatekeeper did not start:\n" << gk.log();
    return 1;
  }
  test::TempDir dir;
  const std::string file = dir.file("import.csv");
  {
    std::ofstream out(file);
    out << "kind,businessUnit,key,field,value,timestamp,reason\n";
    for (std::uint64_t i = 1; i <= rows; ++i) {
      if (i % 1000 == 0) {
        out << "user,,bad-" << i << ",NOPE,1,1700000000000,\n";
      } else if (i % 10 == 0) {
        out << "address,,a" << i << "@example.org,MAIL,1,1700000000000,bounce\n";
      } else {
        out << "user,retail,"
            << "p" << i << "," << (i % 3 ? "MAIL" : "SMS") << ",1,1700000000000,\n";
      }
    }
  }
  std::fprintf(stderr, "importing %llu rows\n", static_cast<unsigned long long>(rows));
  const auto start = std::chrono::steady_clock::now();
  test::Process ctl({"/usr/bin/env", "GATEKEEPER_TOKEN=" + opts.auth_token,
                     "GATEKEEPER_HTTP=http://127.0.0.1:" + std::to_string(opts.http_port),
                     GK_CTL_PATH, "import", file},
                    dir.file("ctl.log"));
  const auto status = ctl.wait(std::chrono::minutes(30));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string log = ctl.log();
  const std::uint64_t bad = rows / 1000;
  std::uint64_t reported = 0;
  for (std::size_t p = log.find("import.csv:"); p != std::string::npos;
       p = log.find("import.csv:", p + 1)) {
    ++reported;
  }
  const long long keys = redis.keys_per_node().begin()->second;
  const double rate = static_cast<double>(rows) / seconds;
  const json result = {{"rows", rows},
                       {"seconds", seconds},
                       {"rows_per_s", rate},
                       {"bad_rows", bad},
                       {"bad_rows_reported", reported},
                       {"exit_status", status ? *status : -1},
                       {"keys_after", keys}};
  if (as_json) {
    std::cout << result.dump(2) << "\n";
  } else {
    std::printf(
        "import %llu rows: %.2f s, %.0f rows/s, %llu bad rows reported of %llu, exit %d, "
        "%lld keys\n",
        static_cast<unsigned long long>(rows), seconds, rate,
        static_cast<unsigned long long>(reported), static_cast<unsigned long long>(bad),
        status ? *status : -1, keys);
  }
  return reported == bad && status && *status == 1 ? 0 : 1;
}

}  // namespace gk::bench

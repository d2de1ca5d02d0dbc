#include "bench/import_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/backend.h"
#include "tests/support/gatekeeper_process.h"
#include "tests/support/process.h"

namespace gk::bench {

namespace {

using nlohmann::json;

struct Run {
  double seconds = 0;
  std::uint64_t reported = 0;  // bad rows reported as FILE:LINE
  int exit_status = -1;
  long long keys = 0;
};

// The file: users (two channels), leads, and every tenth row an address, all changes;
// every 1000th row has an unknown field.
void write_file(const std::string& path, std::uint64_t rows) {
  std::ofstream out(path);
  out << "kind,businessUnit,key,field,value,timestamp,reason\n";
  for (std::uint64_t i = 1; i <= rows; ++i) {
    if (i % 1000 == 0) {
      out << "user,,bad-" << i << ",NOPE,1,1700000000000,\n";
    } else if (i % 10 == 0) {
      out << "address,,a" << i << "@example.org,MAIL,1,1700000000000,bounce\n";
    } else if (i % 10 == 5) {
      out << "lead,retail,l" << i << "@example.org,SMS,1,1700000000000,\n";
    } else {
      out << "user,retail,p" << i << "," << (i % 3 != 0 ? "MAIL" : "ALL") << ",1,1700000000000,\n";
    }
  }
}

Run run_once(const std::string& file, bool cluster, bool erasure) {
  Backend redis(cluster);
  test::GatekeeperOptions opts;
  redis.configure(opts);
  opts.log_level = "warn";
  // The rows are then checked against the tombstones (none match: the cost is the check).
  if (erasure) opts.extra_toml = "[erasure]\nsalt = \"bench-salt-bench-salt-bench-salt-bench\"\n";
  test::GatekeeperProcess gk(opts);
  Run run;
  if (!gk.wait_ready()) {
    std::cerr << "gatekeeper did not start:\n" << gk.log();
    return run;
  }
  test::TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  test::Process ctl({"/usr/bin/env", "GATEKEEPER_TOKEN=" + opts.auth_token,
                     "GATEKEEPER_HTTP=http://127.0.0.1:" + std::to_string(opts.http_port),
                     GK_CTL_PATH, "import", file},
                    dir.file("ctl.log"));
  const auto status = ctl.wait(std::chrono::minutes(30));
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.exit_status = status ? *status : -1;
  const std::string log = ctl.log();
  for (std::size_t p = log.find("import.csv:"); p != std::string::npos;
       p = log.find("import.csv:", p + 1)) {
    ++run.reported;
  }
  for (const auto& [port, keys] : redis.keys_per_node()) run.keys += keys;
  return run;
}

}  // namespace

int run_import_bench(std::uint64_t rows, int runs, bool cluster, bool erasure, bool as_json) {
  test::TempDir dir;
  const std::string file = dir.file("import.csv");
  write_file(file, rows);
  const std::uint64_t bad = rows / 1000;
  std::vector<Run> done;
  bool ok = true;
  for (int r = 0; r < runs; ++r) {
    std::fprintf(stderr, "import run %d/%d: %llu rows on %s%s\n", r + 1, runs,
                 static_cast<unsigned long long>(rows), cluster ? "cluster" : "single",
                 erasure ? ", erasure.salt set" : "");
    done.push_back(run_once(file, cluster, erasure));
    const Run& run = done.back();
    // Every good row leaves its hash, and users and leads a history list; plus the stream.
    const auto good = static_cast<long long>(rows - bad);
    const bool stored = run.keys >= good;
    ok = ok && run.reported == bad && run.exit_status == 1 && stored;
    std::fprintf(stderr,
                 "  %.2f s, %.0f rows/s, %llu of %llu bad rows reported, exit %d, %lld keys\n",
                 run.seconds, static_cast<double>(rows) / run.seconds,
                 static_cast<unsigned long long>(run.reported),
                 static_cast<unsigned long long>(bad), run.exit_status, run.keys);
  }
  std::vector<double> rates;
  for (const Run& r : done) rates.push_back(static_cast<double>(rows) / r.seconds);
  std::sort(rates.begin(), rates.end());
  const double median = rates[rates.size() / 2];
  if (as_json) {
    std::cout << json{{"rows", rows},       {"backend", cluster ? "cluster" : "single"},
                      {"runs", rates},      {"median_rows_per_s", median},
                      {"erasure", erasure}, {"bad_rows", bad},
                      {"checks_passed", ok}}
                     .dump(2)
              << "\n";
  } else {
    std::printf("import %llu rows (%s): median %.0f rows/s over %d runs; checks %s\n",
                static_cast<unsigned long long>(rows), cluster ? "cluster" : "single", median, runs,
                ok ? "passed" : "FAILED");
  }
  return ok ? 0 : 1;
}

}  // namespace gk::bench

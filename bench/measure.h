#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include <zmq.hpp>

#include "bench/load.h"

namespace gk::bench {

// utime + stime of a process, in seconds (all threads).
double cpu_seconds(pid_t pid);

// The machine's load averages (1, 5, 15 min) as /proc/loadavg has them: "3.46 4.25 4.00".
std::string load_averages();

// One measured run.
struct Row {
  std::string name;
  std::string against;  // which baseline row the ratio uses
  std::uint64_t messages = 0;
  double msgs_per_s = 0;
  double cpu_us_per_msg = 0;  // of the forwarding process(es)
  double p50 = 0, p99 = 0, p999 = 0;
  double misses_per_msg = -1;  // gatekeeper cache misses per message; -1: not measured
};

// The row of a finished run; `cpu` is the forwarding processes' CPU seconds over it. Warns on
// stderr when messages went missing and reports the figures there as progress.
Row make_row(const std::string& name, LoadResult& r, double cpu);

// Runs `spec` through the process `forwarder` and measures it.
Row measure(const std::string& name, zmq::context_t& ctx, LoadSpec spec, pid_t forwarder);

}  // namespace gk::bench

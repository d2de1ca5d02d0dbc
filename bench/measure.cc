#include "bench/measure.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

namespace gk::bench {

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

std::string load_averages() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

Row make_row(const std::string& name, LoadResult& r, double cpu) {
  if (r.received != r.sent) {
    std::fprintf(stderr, "%s: WARNING received %llu of %llu\n", name.c_str(),
                 static_cast<unsigned long long>(r.received),
                 static_cast<unsigned long long>(r.sent));
  }
  Row row;
  row.name = name;
  row.messages = r.received;
  row.msgs_per_s = r.msgs_per_second();
  row.cpu_us_per_msg = r.received ? cpu * 1e6 / static_cast<double>(r.received) : 0;
  row.p50 = r.percentile_us(50);
  row.p99 = r.percentile_us(99);
  row.p999 = r.percentile_us(99.9);
  std::fprintf(stderr, "%s: %.0f msg/s, %.2f us CPU/msg, p50 %.0f us, p99 %.0f us\n", name.c_str(),
               row.msgs_per_s, row.cpu_us_per_msg, row.p50, row.p99);
  return row;
}

Row measure(const std::string& name, zmq::context_t& ctx, LoadSpec spec, pid_t forwarder) {
  spec.label = name;
  std::fprintf(stderr, "%s: %llu messages\n", name.c_str(),
               static_cast<unsigned long long>(spec.messages));
  const double cpu0 = cpu_seconds(forwarder);
  LoadResult r = run_load(ctx, spec);
  return make_row(name, r, cpu_seconds(forwarder) - cpu0);
}

}  // namespace gk::bench

#pragma once

#include <cstdint>

namespace gk::bench {

// gk-bench import [ROWS] [--cluster] [--runs N]: `gatekeeper-ctl import` of ROWS (default
// 1,000,000) CSV rows with a bad row every 1,000, into an empty store each run: rows/s end to
// end (median of the runs), and a check that every bad row was reported by its line, the exit
// status was 1 and every good row was stored.
int run_import_bench(std::uint64_t rows, int runs, bool cluster, bool erasure, bool json);

}  // namespace gk::bench

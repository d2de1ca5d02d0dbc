#pragma once

#include <cstdint>

namespace gk::bench {

// gk-bench addresses: warm msg/s with no suppressed address (the check skipped) and then with
// `suppressed` suppressed addresses and 100 tombstones in the book (none matching the load),
// on the same gatekeeper; the ratio is the cost of the address and erasure checks.
int run_address_bench(bool quick, bool json);

// gk-bench import [ROWS]: gatekeeper-ctl import of ROWS (default 1,000,000) CSV rows with a
// bad row every 1,000, rows/s end to end, and a check that every good row was applied.
int run_import_bench(std::uint64_t rows, bool json);

}  // namespace gk::bench

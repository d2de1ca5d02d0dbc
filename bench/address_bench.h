#pragma once

namespace gk::bench {

// What the address and erasure checks cost the message loop (issue 13): the warm scenario
// without any suppressed address or tombstone, then with 10,000 suppressed addresses and
// 100 tombstones, none matching the messages; interleaved, medians of `runs` runs.
int run_address_bench(bool quick, bool as_json, int runs);

}  // namespace gk::bench

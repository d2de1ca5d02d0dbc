#pragma once

namespace gk::bench {

// Two gatekeepers on one Redis (`cluster`: on a Redis Cluster of three primaries). A person
// is opted out through the first one's HTTP API (or by a direct HSET from another client,
// routed to the key's primary in a cluster); probes sent through the second one measure how
// long until it suppresses that person. Prints p50/p99/max over `trials` for both paths.
int run_propagation(int trials, bool cluster, bool as_json);

}  // namespace gk::bench

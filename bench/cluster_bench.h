#pragma once

namespace gk::bench {

// Two gatekeepers side by side, measured on one redis-server and then on a Redis Cluster of
// three primaries in the same run. warm: both loaded at once by senders of their own over
// people they have cached; cold: each sent people it has never seen, every message a store
// read. Prints aggregate msg/s, CPU, p50/p99 and each sidecar's figures per Redis, and the
// cluster/single ratio. `quick`: a tenth of the messages.
int run_cluster_bench(bool quick, bool as_json);

}  // namespace gk::bench

#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/redis/redis_connection.h"
#include "tests/support/gatekeeper_process.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"

namespace gk::bench {

// Named figures, e.g. a gatekeeper's counters by metric name.
using Counters = std::map<std::string, double>;

// The Redis that a benchmark's gatekeepers share: one redis-server, or a Redis Cluster of
// three primaries without replicas; every node a private process on this machine.
class Backend {
 public:
  static constexpr int kClusterPrimaries = 3;

  explicit Backend(bool cluster);

  bool cluster() const noexcept { return cluster_ != nullptr; }
  const char* name() const noexcept { return cluster() ? "cluster" : "single"; }
  std::string describe() const;
  // Points a gatekeeper at this Redis: the url and, for a cluster, the seed nodes (the url
  // then only lends credentials).
  void configure(test::GatekeeperOptions& options) const;
  // For the bench's own clients (RedisRouter): the server, or the cluster's seed nodes.
  const RedisConfig& config() const noexcept { return config_; }
  // A command of another client on the node holding `key`: the one server, or the cluster's
  // primary for the key's slot (RedisCluster::routed(): MOVED and ASK followed).
  RedisReplyPtr command(const std::string& key, const std::vector<std::string>& args);
  // Redirects that command() followed; none for one server.
  test::RedisCluster::RoutingStats redirects() const;
  // DBSIZE of every primary, by port.
  std::map<int, long long> keys_per_node();
  // Client-side caching as Redis sees it, added up over the primaries (INFO stats):
  // tracking_total_keys (keys some client is told about; capped by tracking-table-max-keys,
  // past which Redis evicts entries by sending their invalidations) and
  // tracking_total_prefixes (BCAST mode, used in a cluster).
  Counters tracking();

 private:
  std::unique_ptr<test::RedisServer> server_;
  std::unique_ptr<test::RedisCluster> cluster_;
  RedisConfig config_;
};

// Writes `count` people from `first` with MAIL opted out for every `opt_out_every`-th, in
// pipelined batches, as any platform job would: through RedisRouter, which in a cluster
// splits each batch per primary and follows redirects. Throws unless every write applied.
// `with_leads`: each person's email also has a lead record (SMS not opted out), as after a
// status change by email, so that a lookup of them reads every key.
void seed(const RedisConfig& redis, std::uint64_t first, std::uint64_t count,
          std::uint64_t opt_out_every, bool with_leads = false);

// Store-side counters of gatekeepers' /metrics, by name: redirects (MOVED, ASK), TRYAGAIN
// retries, slot-map changes, Redis errors and reconnects, cache misses, invalidations and
// whole-cache flushes.
extern const std::vector<std::string> kStoreCounters;
// Added up over the gatekeepers listening on `http_ports`; a counter missing from an answer
// (or a gatekeeper not answering) counts 0.
Counters store_counters(const std::vector<int>& http_ports);
Counters difference(const Counters& after, const Counters& before);
// "redis_ask 0, redis_moved 0, ...": the names without the gk_ prefix and _total suffix.
std::string describe(const Counters& counters);

}  // namespace gk::bench

#pragma once

#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/redis/redis_connection.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"

namespace gk::test {

// The two stores the write tests run against, as TEMPLATE_TEST_CASE parameters: one
// redis-server (the atomic script) and a 3-primary cluster (the single-slot steps of
// status_write_cluster.cc). The same rules must hold on both.
struct OneServer {
  static constexpr bool kCluster = false;
  RedisServer redis;
  RedisConfig config() const { return redis.config(); }
  RedisReplyPtr command(const std::vector<std::string>& args) { return redis.command(args); }
  void flush_scripts() { redis.command({"SCRIPT", "FLUSH"}); }
};

struct Cluster {
  static constexpr bool kCluster = true;
  // One cluster per test process, emptied for each test.
  static RedisCluster& shared() {
    static RedisCluster cluster(3, 0);
    return cluster;
  }
  Cluster() {
    for (int port : shared().primary_ports()) shared().command(port, {"FLUSHALL"});
  }
  RedisConfig config() const {
    RedisConfig c;
    c.cluster = shared().seeds();
    return c;
  }
  RedisReplyPtr command(const std::vector<std::string>& args) {
    return shared().routed(args.size() > 1 ? args[1] : std::string(), args);
  }
  void flush_scripts() {
    for (int port : shared().primary_ports()) shared().command(port, {"SCRIPT", "FLUSH"});
  }
};

}  // namespace gk::test

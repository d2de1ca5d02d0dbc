// The store on a real Redis Cluster (3 primaries, started by the harness): slot routing,
// MOVED after a reshard, and the reader's cache kept correct by broadcast tracking across a
// reshard and a failover.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/redis/cluster_slots.h"
#include "common/redis/redis_router.h"
#include "common/store/key_schema.h"
#include "common/store/status_reader.h"
#include "tests/support/ports.h"
#include "tests/support/reader_support.h"
#include "tests/support/redis_cluster.h"

using namespace gk;
using namespace gk::test;
using namespace std::chrono_literals;

namespace {

RedisConfig cluster_config(RedisCluster& cluster) {
  RedisConfig c;
  c.cluster = cluster.seeds();
  return c;
}

const ChannelRegistry& channels() {
  static const ChannelRegistry registry{{ChannelConfig{"MAIL", {"EMAIL"}, "tcp://x:1", true, 1},
                                         ChannelConfig{"SMS", {}, "tcp://x:2", true, 1}}};
  return registry;
}

// A user id whose status hash lives on the primary at `port`.
std::string user_on(RedisCluster& cluster, int port, const std::string& stem) {
  for (int i = 0; i < 100000; ++i) {
    const std::string id = stem + std::to_string(i);
    std::string key;
    KeySchema("gk:", true).user(key, "", id);
    if (cluster.primary_port_for_slot(key_slot(key)) == port) return id;
  }
  FAIL("no id on port " << port);
  return {};
}

// A cluster and a reader connected to it.
struct ReaderOnCluster {
  RedisCluster cluster;
  StatusReader reader;
  ReaderOnCluster(int primaries, int replicas, int node_timeout_ms = 2000)
      : cluster(primaries, replicas, node_timeout_ms),
        reader(cluster_config(cluster), CacheConfig{}, channels()) {
    if (auto connected = reader.connect(); !connected)
      FAIL("reader.connect: " << connected.error());
  }
};

std::string str(const RedisReplyPtr& r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
             ? std::string(r->str, r->len)
             : "(not a string)";
}

}  // namespace

TEST_CASE("cluster store: our slot of a key is the cluster's", "[cluster][integration]") {
  RedisCluster cluster(3, 0);
  for (const std::string key :
       {"gk:u::u1", "gk:l:bu:ann@x.com", "gk:id::a@b", "{tag}x", "a{}b", "x{y}z{w}", "}{", ""}) {
    INFO(key);
    CHECK(key_slot(key) == cluster.key_slot(key));
  }
  for (int i = 0; i < 300; ++i) {
    const std::string key = "gk:u:bu" + std::to_string(i % 7) + ":" + std::to_string(i * 7919);
    REQUIRE(key_slot(key) == cluster.key_slot(key));
  }
}

TEST_CASE("cluster store: a pipeline spans every primary and keeps its order",
          "[cluster][integration]") {
  RedisCluster cluster(3, 0);
  auto connected = RedisRouter::connect(cluster_config(cluster));
  REQUIRE(connected);
  RedisRouter::Ptr router = std::move(connected).value();
  CHECK(router->cluster());
  CHECK(router->primaries().size() == 3);
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) keys.push_back("k" + std::to_string(i));
  for (const std::string& k : keys) {
    REQUIRE(str(router->command(k, {"SET", k, "v" + k})) == "OK");
  }
  std::vector<RedisRouter::Command> commands;
  for (const std::string& k : keys) commands.push_back({k, {"GET", k}});
  std::vector<RedisReplyPtr> replies;
  REQUIRE(router->pipeline(commands, replies));
  REQUIRE(replies.size() == keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) CHECK(str(replies[i]) == "v" + keys[i]);
  // Each primary holds some of them: the keys were really spread.
  for (int port : cluster.primary_ports()) {
    CHECK(cluster.command(port, {"DBSIZE"})->integer > 0);
  }
}

TEST_CASE("cluster store: after a reshard a stale slot map is corrected by MOVED",
          "[cluster][integration]") {
  RedisCluster cluster(3, 0);
  auto connected = RedisRouter::connect(cluster_config(cluster));
  REQUIRE(connected);
  RedisRouter::Ptr router = std::move(connected).value();
  const auto primaries = cluster.primary_ports();
  const std::string key = "gk:u::" + user_on(cluster, primaries[0], "moved");
  REQUIRE(str(router->command(key, {"SET", key, "before"})) == "OK");
  const std::uint64_t version = router->topology_version();
  // Move every slot of the first primary away, its keys with them.
  cluster.reshard(primaries[0], primaries[1], 16384 / 3 + 2);
  REQUIRE(cluster.primary_port_for_slot(key_slot(key)) != primaries[0]);
  CHECK(str(router->command(key, {"GET", key})) == "before");
  CHECK(router->topology_version() > version);
  CHECK(router->ok());
  // The same through a pipeline that mixes moved and unmoved slots.
  std::vector<RedisRouter::Command> commands = {{key, {"GET", key}}, {"other", {"GET", "other"}}};
  std::vector<RedisReplyPtr> replies;
  REQUIRE(router->pipeline(commands, replies));
  CHECK(str(replies[0]) == "before");
  CHECK(replies[1]->type == REDIS_REPLY_NIL);
}

TEST_CASE("cluster reader: a write on any primary evicts the cached status",
          "[cluster][integration][reader]") {
  ReaderOnCluster rig(3, 0);
  auto& [cluster, reader] = rig;
  CHECK(reader.invalidation_fds().size() == 3);
  for (int port : cluster.primary_ports()) {
    const std::string id = user_on(cluster, port, "p");
    INFO("primary " << port << " user " << id);
    const PersonRef person{"", id, ""};
    auto before = lookup(reader, person);
    REQUIRE(before);
    CHECK_FALSE(before->opted_out(0));
    cluster.routed("gk:u::" + id, {"HSET", "gk:u::" + id, "MAIL", "1"});
    REQUIRE(evicted(reader, person));
    auto after = lookup(reader, person);
    REQUIRE(after);
    CHECK(after->opted_out(0));
  }
  CHECK(reader.stats().invalidations >= 3);
}

TEST_CASE("cluster reader: a person cached as absent is evicted when written after a reshard",
          "[cluster][integration][reader]") {
  ReaderOnCluster rig(3, 0);
  auto& [cluster, reader] = rig;
  const auto primaries = cluster.primary_ports();
  const std::string id = user_on(cluster, primaries[0], "absent");
  const PersonRef person{"", id, ""};
  auto before = lookup(reader, person);
  REQUIRE(before);
  CHECK_FALSE(before->opted_out(0));
  // The slot moves: the key never existed, so nothing is migrated and the old owner has
  // nothing to announce; the write lands on the new owner.
  cluster.reshard(primaries[0], primaries[2], 16384 / 3 + 2);
  REQUIRE(cluster.primary_port_for_slot(key_slot("gk:u::" + id)) == primaries[2]);
  cluster.routed("gk:u::" + id, {"HSET", "gk:u::" + id, "MAIL", "1"});
  REQUIRE(evicted(reader, person));
  auto after = lookup(reader, person);
  REQUIRE(after);
  CHECK(after->opted_out(0));
}

TEST_CASE("cluster reader: after a failover writes on the new primary still evict",
          "[cluster][integration][reader]") {
  ReaderOnCluster rig(3, 1);
  auto& [cluster, reader] = rig;
  INFO("replica links that failed: " << reader.stats().link_errors);
  CHECK(reader.invalidation_fds().size() == 6);  // primaries and replicas
  const int old_primary = cluster.primary_ports()[0];
  const std::string id = user_on(cluster, old_primary, "fo");
  const PersonRef person{"", id, ""};
  REQUIRE(lookup(reader, person));
  const int new_primary = cluster.failover(old_primary);
  REQUIRE(cluster.primary_port_for_slot(key_slot("gk:u::" + id)) == new_primary);
  // The reader has not re-read the slot map yet: only its link to the promoted replica can
  // tell it about this write.
  cluster.command(new_primary, {"HSET", "gk:u::" + id, "ALL", "1"});
  REQUIRE(evicted(reader, person));
  auto after = lookup(reader, person);
  INFO(after.error());
  REQUIRE(after);
  CHECK(after->all);
  REQUIRE(reader.ping());
  CHECK(reader.nodes().size() == 3);
}

TEST_CASE("cluster reader: a killed primary fails lookups until a replica takes over",
          "[cluster][integration][reader]") {
  ReaderOnCluster rig(3, 1);
  auto& [cluster, reader] = rig;
  const int primary = cluster.primary_ports()[0];
  const std::string id = user_on(cluster, primary, "kill");
  cluster.routed("gk:u::" + id, {"HSET", "gk:u::" + id, "SMS", "1"});
  cluster.command(primary, {"WAIT", "1", "5000"});  // replicated before the primary dies
  REQUIRE(lookup(reader, {"", id, ""}));
  cluster.kill(primary);
  // The link to the dead node breaks: the reader drops everything it cached.
  REQUIRE(eventually([&] { return !drain_ready(reader) || !reader.ping(); }, 10s));
  CHECK_FALSE(reader.connected());
  CHECK(reader.cache().size() == 0);
  // Once a replica is promoted the reader connects again and finds the status.
  REQUIRE(eventually([&] { return reader.connect().ok(); }, 30s, 100ms));
  auto after = lookup(reader, {"", id, ""});
  INFO(after.error());
  REQUIRE(after);
  CHECK(after->opted_out(1));
}

TEST_CASE("cluster reader: a dead replica costs one reconnect, then is retried only later",
          "[cluster][integration][reader]") {
  // A long node timeout: the dead replica stays listed as a member throughout the test.
  ReaderOnCluster rig(3, 1, 15000);
  auto& [cluster, reader] = rig;
  REQUIRE(reader.invalidation_fds().size() == 6);
  const std::string id = user_on(cluster, cluster.primary_ports()[0], "rep");
  REQUIRE(lookup(reader, {"", id, ""}));
  cluster.kill(cluster.replica_ports()[0]);
  // Its link breaks: the cache goes, the reader reconnects without it.
  REQUIRE(eventually([&] { return !drain_ready(reader); }, 10s));
  CHECK(reader.cache().size() == 0);
  const Status connected = reader.connect();
  INFO(connected.error());
  REQUIRE(connected);
  CHECK(reader.invalidation_fds().size() == 5);
  CHECK(reader.stats().link_errors == 1);
  // Lookups and pings go on; the dead replica is not dialled again at every ping.
  for (int i = 0; i < 5; ++i) REQUIRE(reader.ping());
  CHECK(reader.stats().link_errors == 1);
  auto r = lookup(reader, {"", id, ""});
  REQUIRE(r);
  CHECK_FALSE(r->opted_out(0));
}

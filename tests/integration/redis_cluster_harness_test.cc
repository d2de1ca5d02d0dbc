// The Redis Cluster harness against real redis-server nodes: creation, routing (MOVED and ASK),
// resharding with redis-cli, manual failover, and an outage of a primary.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "tests/support/ports.h"
#include "tests/support/redis_cluster.h"

using namespace gk;
using namespace gk::test;
using namespace std::chrono_literals;

namespace {

std::string str(const RedisReplyPtr& r) {
  REQUIRE(r);
  return std::string(r->str ? r->str : "", r->str ? r->len : 0);
}

void set(RedisCluster& c, const std::string& key, const std::string& value) {
  auto r = c.routed(key, {"SET", key, value});
  INFO(key << ": " << describe_reply(r.get()));
  REQUIRE(r->type == REDIS_REPLY_STATUS);
}

std::string get(RedisCluster& c, const std::string& key) {
  auto r = c.routed(key, {"GET", key});
  INFO(key << ": " << describe_reply(r.get()));
  REQUIRE(r->type == REDIS_REPLY_STRING);
  return str(r);
}

// The primary of each slot, as the node at `port` sees it.
std::vector<int> owners(RedisCluster& c, int port) {
  auto r = c.command(port, {"CLUSTER", "SLOTS"});
  REQUIRE(r->type == REDIS_REPLY_ARRAY);
  std::vector<int> owner(16384, 0);
  for (std::size_t i = 0; i < r->elements; ++i) {
    const redisReply* range = r->element[i];
    for (long long s = range->element[0]->integer; s <= range->element[1]->integer; ++s) {
      owner[s] = static_cast<int>(range->element[2]->element[1]->integer);
    }
  }
  return owner;
}

// Slots served by each primary, as the node at `port` sees it.
std::map<int, int> slot_counts(RedisCluster& c, int port) {
  auto r = c.command(port, {"CLUSTER", "SLOTS"});
  REQUIRE(r->type == REDIS_REPLY_ARRAY);
  std::map<int, int> counts;
  for (std::size_t i = 0; i < r->elements; ++i) {
    const redisReply* range = r->element[i];
    const int primary = static_cast<int>(range->element[2]->element[1]->integer);
    counts[primary] +=
        static_cast<int>(range->element[1]->integer - range->element[0]->integer + 1);
  }
  return counts;
}

long long dbsize(RedisCluster& c, int port) {
  auto r = c.command(port, {"DBSIZE"});
  REQUIRE(r->type == REDIS_REPLY_INTEGER);
  return r->integer;
}

std::string key(int i) {
  return "key:" + std::to_string(i);
}

std::string moved_to(int slot, int port) {
  return "MOVED " + std::to_string(slot) + " 127.0.0.1:" + std::to_string(port);
}

}  // namespace

TEST_CASE("redis cluster: three primaries come up and keys spread across them",
          "[cluster][integration]") {
  RedisCluster c;
  const std::vector<int> ports = c.ports();
  REQUIRE(ports.size() == 3);
  CHECK(c.primary_ports() == ports);
  CHECK(c.replica_ports().empty());
  std::vector<std::string> seeds;
  for (int p : ports) seeds.push_back("127.0.0.1:" + std::to_string(p));
  CHECK(c.seeds() == seeds);
  // One block of ports, each with its cluster bus port (+10000) below the ephemeral range.
  CHECK(ports[2] == ports[0] + 2);
  CHECK(ports[2] + 10000 < 32768);

  // Every node hashes alike, and as Redis documents it.
  for (const std::string k : {"foo", "bar", "{user1000}.following", "{user1000}.followers"}) {
    std::set<long long> slots;
    for (int p : ports) slots.insert(c.command(p, {"CLUSTER", "KEYSLOT", k})->integer);
    INFO(k);
    CHECK(slots.size() == 1);
  }
  CHECK(c.key_slot("foo") == 12182);
  CHECK(c.key_slot("{user1000}.following") == c.key_slot("{user1000}.followers"));

  constexpr int kKeys = 100;
  std::map<int, int> keys_per_primary;
  for (int i = 0; i < kKeys; ++i) set(c, key(i), "v" + std::to_string(i));
  for (int i = 0; i < kKeys; ++i) {
    const int slot = c.key_slot(key(i));
    const int owner = c.primary_port_for_slot(slot);
    ++keys_per_primary[owner];
    INFO(key(i) << " in slot " << slot << " on " << owner);
    // The owner holds it; the other primaries send the client there.
    CHECK(str(c.command(owner, {"GET", key(i)})) == "v" + std::to_string(i));
    for (int p : ports) {
      if (p == owner) continue;
      CHECK(str(c.command(p, {"GET", key(i)})) == moved_to(slot, owner));
    }
    CHECK(get(c, key(i)) == "v" + std::to_string(i));
  }
  CHECK(keys_per_primary.size() == 3);
  long long total = 0;
  for (int p : ports) {
    CHECK(dbsize(c, p) == keys_per_primary[p]);
    total += dbsize(c, p);
  }
  CHECK(total == kKeys);
  // The slot map routed() learnt is right: nothing was redirected.
  CHECK(c.routing_stats().moved == 0);
  CHECK(c.routing_stats().ask == 0);
}

TEST_CASE("redis cluster: a reshard moves slots and their keys and routed() follows MOVED",
          "[cluster][integration]") {
  RedisCluster c;
  constexpr int kKeys = 3000;
  for (int i = 0; i < kKeys; ++i) set(c, key(i), "v" + std::to_string(i));

  const int from = c.primary_port_for_slot(0);
  const int to = c.primary_port_for_slot(16383);
  REQUIRE(from != to);
  std::vector<int> slot_of(kKeys);
  for (int i = 0; i < kKeys; ++i) slot_of[i] = c.key_slot(key(i));
  const auto before = slot_counts(c, to);
  const auto owner_before = owners(c, to);
  const long long from_keys = dbsize(c, from);
  const long long to_keys = dbsize(c, to);

  const auto t0 = std::chrono::steady_clock::now();
  c.reshard(from, to, 1000);
  const auto took = std::chrono::steady_clock::now() - t0;
  INFO("reshard took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                       << " ms");

  // Every node sees the move (wait_until_stable checked they agree).
  for (int p : c.ports()) {
    const auto after = slot_counts(c, p);
    CHECK(after.at(from) == before.at(from) - 1000);
    CHECK(after.at(to) == before.at(to) + 1000);
  }
  const auto owner_after = owners(c, from);
  std::vector<int> moved;
  for (int i = 0; i < kKeys; ++i) {
    if (owner_before[slot_of[i]] == from && owner_after[slot_of[i]] == to) moved.push_back(i);
  }
  REQUIRE(!moved.empty());
  CHECK(dbsize(c, from) == from_keys - static_cast<long long>(moved.size()));
  CHECK(dbsize(c, to) == to_keys + static_cast<long long>(moved.size()));
  CHECK(str(c.command(from, {"GET", key(moved[0])})) == moved_to(slot_of[moved[0]], to));

  // routed() still has the old map: its first try at a moved key meets MOVED.
  for (int i = 0; i < kKeys; ++i) REQUIRE(get(c, key(i)) == "v" + std::to_string(i));
  CHECK(c.routing_stats().moved > 0);
  CHECK(c.routing_stats().ask == 0);
}

TEST_CASE("redis cluster: routed() follows ASK while a slot is migrating",
          "[cluster][integration]") {
  RedisCluster c;
  const std::string k = "ask-key";
  const int slot = c.key_slot(k);
  const int src = c.primary_port_for_slot(slot);
  int dst = 0;
  for (int p : c.primary_ports()) {
    if (p != src) dst = p;
  }
  set(c, k, "before");

  // Half-way through a migration, as redis-cli leaves it between MIGRATE and SETSLOT NODE.
  REQUIRE(str(c.command(dst, {"CLUSTER", "SETSLOT", std::to_string(slot), "IMPORTING",
                              c.node_id(src)})) == "OK");
  REQUIRE(str(c.command(src, {"CLUSTER", "SETSLOT", std::to_string(slot), "MIGRATING",
                              c.node_id(dst)})) == "OK");
  REQUIRE(str(c.command(src, {"MIGRATE", "127.0.0.1", std::to_string(dst), "", "0", "5000", "KEYS",
                              k})) == "OK");
  const std::string ask = "ASK " + std::to_string(slot) + " 127.0.0.1:" + std::to_string(dst);
  CHECK(str(c.command(src, {"GET", k})) == ask);
  CHECK(str(c.command(dst, {"GET", k})) == moved_to(slot, src));  // without ASKING

  CHECK(get(c, k) == "before");
  CHECK(c.routing_stats().ask == 1);
  set(c, k, "during");
  CHECK(c.routing_stats().ask == 2);
  CHECK(c.routing_stats().moved == 0);

  for (int p : {dst, src}) {
    REQUIRE(str(c.command(
                p, {"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", c.node_id(dst)})) == "OK");
  }
  c.wait_until_stable();
  CHECK(c.primary_port_for_slot(slot) == dst);
  CHECK(get(c, k) == "during");
  CHECK(c.routing_stats().moved == 1);
  CHECK(c.routing_stats().ask == 2);
}

TEST_CASE("redis cluster: writes during a background reshard all land", "[cluster][integration]") {
  RedisCluster c;
  constexpr int kKeys = 2000;
  std::map<std::string, std::string> expected;
  for (int i = 0; i < kKeys; ++i) {
    set(c, key(i), "0");
    expected[key(i)] = "0";
  }
  const int from = c.primary_port_for_slot(0);
  const int to = c.primary_port_for_slot(16383);
  const int before = slot_counts(c, from).at(from);

  auto cli = c.start_reshard(from, to, 1000);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  int rounds = 0;
  int writes = 0;
  while (cli->running() && std::chrono::steady_clock::now() < deadline) {
    ++rounds;
    for (int i = rounds % 7; i < kKeys && cli->running(); i += 7) {
      const std::string v = std::to_string(rounds);
      auto r = c.routed(key(i), {"SET", key(i), v});
      INFO(key(i) << ": " << describe_reply(r.get()));
      REQUIRE(r->type == REDIS_REPLY_STATUS);
      expected[key(i)] = v;
      ++writes;
    }
  }
  INFO(cli->log());
  REQUIRE(cli->wait(0ms) == 0);
  c.wait_until_stable();
  CHECK(writes > 0);
  CHECK(slot_counts(c, from).at(from) == before - 1000);
  for (const auto& [k, v] : expected) REQUIRE(get(c, k) == v);
}

TEST_CASE("redis cluster: failover() promotes a replica that kept the data",
          "[cluster][integration]") {
  RedisCluster c(3, 1);
  REQUIRE(c.ports().size() == 6);
  const auto replicas = c.replica_ports();
  REQUIRE(c.primary_ports().size() == 3);
  REQUIRE(replicas.size() == 3);

  const std::string k = "failover-key";
  set(c, k, "kept");
  const int slot = c.key_slot(k);
  const int old_primary = c.primary_port_for_slot(slot);

  const auto t0 = std::chrono::steady_clock::now();
  const int promoted = c.failover(old_primary);
  INFO("failover took " << std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - t0)
                               .count()
                        << " ms");

  CHECK(std::count(replicas.begin(), replicas.end(), promoted) == 1);
  const auto primaries = c.primary_ports();
  CHECK(std::count(primaries.begin(), primaries.end(), promoted) == 1);
  CHECK(std::count(primaries.begin(), primaries.end(), old_primary) == 0);
  const auto now_replicas = c.replica_ports();
  CHECK(std::count(now_replicas.begin(), now_replicas.end(), old_primary) == 1);
  CHECK(c.primary_port_for_slot(slot) == promoted);

  CHECK(str(c.command(promoted, {"GET", k})) == "kept");
  CHECK(str(c.command(old_primary, {"GET", k})) == moved_to(slot, promoted));
  CHECK(get(c, k) == "kept");
  CHECK(c.routing_stats().moved == 1);  // routed() first asked the old primary
}

TEST_CASE("redis cluster: a killed primary's replica takes over and the node rejoins as a replica",
          "[cluster][integration]") {
  RedisCluster c(3, 1, 1000);
  const std::string k = "outage-key";
  set(c, k, "kept");
  const int slot = c.key_slot(k);
  const int old_primary = c.primary_port_for_slot(slot);
  const std::string old_id = c.node_id(old_primary);
  // Replication is asynchronous: the replica has the key before the primary dies.
  REQUIRE(c.command(old_primary, {"WAIT", "1", "5000"})->integer == 1);

  c.kill(old_primary);
  CHECK_FALSE(c.running(old_primary));
  CHECK_THROWS(c.command(old_primary, {"PING"}));
  // The replica is elected once the others have marked the primary failing.
  REQUIRE(eventually([&] { return c.primary_port_for_slot(slot) != old_primary; }, 30s, 20ms));
  c.wait_until_stable();
  const int promoted = c.primary_port_for_slot(slot);
  CHECK(c.primary_ports().size() == 3);
  CHECK(get(c, k) == "kept");  // routed() finds the old primary gone and learns the map again

  c.restart(old_primary);
  CHECK(c.running(old_primary));
  CHECK(c.node_id(old_primary) == old_id);
  CHECK(str(c.command(old_primary, {"CLUSTER", "MYID"})) == old_id);
  const auto replicas = c.replica_ports();
  CHECK(std::count(replicas.begin(), replicas.end(), old_primary) == 1);
  CHECK(c.primary_port_for_slot(slot) == promoted);
  CHECK(get(c, k) == "kept");
}

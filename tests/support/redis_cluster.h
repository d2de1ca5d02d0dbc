#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/redis/redis_connection.h"
#include "tests/support/process.h"

namespace gk::test {

// A private Redis Cluster on loopback: `primaries` primaries with `replicas_per_primary`
// replicas each, every node a redis-server in its own directory (its own nodes.conf), no
// persistence, stopped with the object. Built and resharded with `redis-cli --cluster`, as an
// operator would. Not thread-safe: one test thread drives it (a background reshard runs in its
// own process).
//
// Ports: a node's cluster bus listens on port + 10000, so the nodes of one cluster take a block
// of consecutive ports below 10000 whose bus ports (below 20000) are free as well. Neither range
// meets free_port()'s (20000-32000) nor the kernel's ephemeral ports (32768 and up), where an
// outgoing connection could take a bus port while a node is down.
class RedisCluster {
 public:
  // Returns when every node reports cluster_state:ok, agrees on the slot map and every replica
  // is linked to its primary; std::runtime_error (with the reason) if that takes over ~30 s.
  explicit RedisCluster(int primaries = 3, int replicas_per_primary = 0,
                        int node_timeout_ms = 2000);
  ~RedisCluster();
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  std::vector<int> ports() const;          // every node, running or not
  std::vector<std::string> seeds() const;  // "127.0.0.1:<port>" of every node
  bool running(int port) const;

  // From CLUSTER SLOTS asked of a running node; throws when no primary serves the slot.
  int primary_port_for_slot(int slot);
  // The running nodes whose ROLE is primary / replica, ascending.
  std::vector<int> primary_ports();
  std::vector<int> replica_ports();
  // CLUSTER KEYSLOT asked of a running node.
  int key_slot(const std::string& key);

  // A command on a connection of the test's own to one node. Error replies (MOVED included)
  // are returned; an I/O error throws.
  RedisReplyPtr command(int port, const std::vector<std::string>& args);

  // A command routed like a cluster client: the key's slot (CLUSTER KEYSLOT) picks the primary
  // from a slot map learnt from CLUSTER SLOTS, MOVED corrects that map and is followed, ASK is
  // followed with ASKING first; at most a few redirects, after which the last redirect error is
  // returned. The map is not refreshed after reshard() or failover(), so, as for a real client,
  // the first try may go to the old owner and be redirected. A node that does not answer (killed)
  // makes it learn the map again from a running node; throws if that gives the same node.
  RedisReplyPtr routed(const std::string& key, const std::vector<std::string>& args);
  struct RoutingStats {
    int moved = 0;  // MOVED redirects followed by routed()
    int ask = 0;    // ASK redirects followed by routed()
  };
  const RoutingStats& routing_stats() const noexcept { return stats_; }

  // Moves `count` slots, keys and all (MIGRATE), from the primary at `from_port` to the one at
  // `to_port` with `redis-cli --cluster reshard`. Waits for a stable cluster first; returns
  // when redis-cli has exited 0 and the cluster is stable again (throws with redis-cli's
  // output otherwise).
  void reshard(int from_port, int to_port, int count);
  // The same, started in the background: the caller waits for the process (its log() is
  // redis-cli's output) and then calls wait_until_stable(). The log lives in the cluster's
  // directory, so the process must not outlive the cluster.
  std::unique_ptr<Process> start_reshard(int from_port, int to_port, int count);
  // Until every running node reports cluster_state:ok, knows every node, agrees on the slot
  // map (CLUSTER SLOTS) and on who replicates whom (CLUSTER NODES), sees no open
  // (migrating/importing) slot and no running node as failing, and every running replica's
  // link to its primary is up. Throws on timeout.
  void wait_until_stable(std::chrono::milliseconds deadline = std::chrono::seconds(30));

  // Manual failover (CLUSTER FAILOVER on a replica of the primary at `primary_port`); returns
  // the replica's port once it is a primary, the old primary a replica, and the cluster stable.
  // Needs replicas_per_primary >= 1.
  int failover(int primary_port);

  // SIGKILL, an outage: returns at once, without waiting for the cluster to notice.
  void kill(int port);
  // Starts a killed node again on the same port and directory (it keeps its node id, not its
  // data). Returns when it answers and, if every node is running, the cluster is stable.
  void restart(int port);
  std::string node_id(int port);

 private:
  struct Node {
    explicit Node(int p) : port(p) {}
    int port;
    TempDir dir;
    std::unique_ptr<Process> process;
  };

  Node& node(int port);
  const Node& node(int port) const;
  void start_node(Node& n);
  void wait_answering(const std::vector<int>& ports);
  std::vector<int> running_ports() const;
  // The running nodes whose ROLE reply names `role_name` ("master" or "slave").
  std::vector<int> ports_with_role(const std::string& role_name);
  // nullptr (and the connection dropped) when the node does not answer.
  RedisReplyPtr try_command(int port, const std::vector<std::string>& args);
  RedisReplyPtr first_answer(const std::vector<std::string>& args, int* port = nullptr);
  // Why the cluster is not stable yet; empty when it is.
  std::string instability();
  // redis-cli --cluster create ignores a failed CLUSTER REPLICATE (the replica had not heard of
  // its primary yet) and leaves that node an empty primary; this makes such a node a replica of
  // the primary short of one, as redis-cli meant to. Empty when every primary has its replicas.
  std::string missing_replicas();
  void learn_slot_map();

  int node_timeout_ms_;
  int replicas_per_primary_;
  TempDir dir_;  // redis-cli output
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<int, RedisConnection::Ptr> connections_;
  std::map<int, std::string> ids_;
  std::vector<int> slot_owner_;  // routed()'s slot map: a port per slot, 0 unknown
  RoutingStats stats_;
  int cli_runs_ = 0;
};

}  // namespace gk::test

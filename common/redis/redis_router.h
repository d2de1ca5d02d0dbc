#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/redis/cluster_slots.h"
#include "common/redis/redis_connection.h"
#include "common/util/result.h"

namespace gk {

// Sends each command to the Redis node that holds its key: the one configured server, or in
// cluster mode (`redis.cluster`) the primary serving the key's slot, following MOVED (the
// slot moved for good: the map is corrected and re-read) and ASK (the key is being migrated:
// ASKING, then the command, on the node named). A pipeline is split per node and sent to all
// nodes before any reply is read. Not thread-safe: one owner at a time.
//
// Failure model: an I/O error on any node breaks the router for good (`ok()` false); the
// owner drops it and connects a new one, as with a single RedisConnection.
class RedisRouter {
 public:
  using Ptr = std::unique_ptr<RedisRouter>;

  struct Stats {
    std::uint64_t moved = 0;     // MOVED redirects followed
    std::uint64_t ask = 0;       // ASK redirects followed
    std::uint64_t tryagain = 0;  // TRYAGAIN replies retried (multi-key command mid-migration)
  };

  struct Command {
    std::string_view key;
    std::vector<std::string_view> args;
  };

  // Connects to the server, or reads the slot map from the first seed that answers and
  // connects to every primary. On success the pointer is never null.
  static Result<Ptr> connect(const RedisConfig& config);

  bool cluster() const noexcept { return cluster_; }
  bool ok() const noexcept { return error_.empty(); }
  const std::string& error() const noexcept { return error_; }

  // nullptr on an I/O failure (then `ok()` is false); error replies are returned as they are.
  RedisReplyPtr command(std::string_view key, std::initializer_list<std::string_view> args);
  RedisReplyPtr command(std::string_view key, const std::vector<std::string_view>& args);
  // One reply per command, in order, for the first `count` commands (all by default). False
  // on an I/O failure.
  bool pipeline(const std::vector<Command>& commands, std::vector<RedisReplyPtr>& replies) {
    return pipeline(commands, commands.size(), replies);
  }
  bool pipeline(const std::vector<Command>& commands, std::size_t count,
                std::vector<RedisReplyPtr>& replies);

  // PING on every node; in cluster mode the slot map is re-read too.
  bool ping();
  // Re-reads the slot map (cluster mode). False on failure (the router is then broken).
  bool refresh();
  // Counts slot-map changes seen (refreshes and MOVED redirects).
  std::uint64_t topology_version() const noexcept { return topology_version_; }
  const Stats& stats() const noexcept { return stats_; }
  // Primaries serving slots, and (cluster mode) every other usable node: replicas and
  // primaries without slots yet. "host:port".
  std::vector<std::string> primaries() const;
  std::vector<std::string> replicas() const;

  // Use connect(); public only for std::make_unique.
  struct Token {};
  RedisRouter(Token, const RedisConfig& config)
      : config_(config), cluster_(!config.cluster.empty()) {}

 private:
  Status load_slot_map();
  RedisConnection* node(const std::string& name);
  const std::string& node_for(std::string_view key) const;
  RedisReplyPtr run(const std::string& node, bool asking, const std::string_view* args,
                    std::size_t count);
  RedisReplyPtr routed(std::string_view key, const std::string_view* args, std::size_t count);
  void broken(std::string error);
  // Groups the first `count` commands by node into shares_ (kept between calls, so a
  // pipeline allocates nothing once the shares have grown to the batch size).
  void split(const std::vector<Command>& commands, std::size_t count);

  struct Share {
    std::string node;
    std::vector<std::size_t> indexes;
  };

  const RedisConfig config_;  // a copy: callers pass temporaries
  const bool cluster_;
  std::string single_node_;
  SlotMap map_;
  std::vector<std::string> members_;  // CLUSTER NODES, sorted
  std::map<std::string, RedisConnection::Ptr, std::less<>> connections_;
  std::uint64_t topology_version_ = 0;
  Stats stats_;
  std::vector<Share> shares_;
  std::size_t shares_used_ = 0;
  std::vector<std::size_t> redirected_;
  std::string error_;
};

}  // namespace gk

#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/redis/redis_connection.h"
#include "common/util/result.h"

namespace gk {

// What the in-process copies of Redis data (the status reader's cache and email index, the
// address book) share: hearing every write to some key prefixes on a node, and reading all
// keys under a prefix.

// A node's pair of connections for client-side tracking in broadcast mode (RESP2 redirect):
// `subscriber` is subscribed to __redis__:invalidate, and `tracker` holds CLIENT TRACKING on
// REDIRECT <subscriber's id> BCAST with a PREFIX per entry of `prefixes`, so that every write
// by any client to a key under them is announced on the subscriber.
struct TrackingConnections {
  RedisConnection::Ptr tracker;
  RedisConnection::Ptr subscriber;
};
Result<TrackingConnections> open_tracking(const RedisConfig& redis, const std::string& node,
                                          const std::vector<std::string>& prefixes);

// A connection to `node` ("host:port") for reading: on a single server the configured
// database is selected (a cluster has only database 0).
Result<RedisConnection::Ptr> connect_node(const RedisConfig& redis, const std::string& node);

// SCANs the connection's node for the keys that start with `prefix` (glob characters in it
// escaped), 1,000 keys a call, handing each page's key array to `page`. Stops with an error
// when a reply is not a SCAN reply, or when `stop` becomes true.
Status scan_prefix(RedisConnection& conn, std::string_view prefix,
                   const std::function<void(const redisReply& keys)>& page,
                   const std::atomic<bool>* stop = nullptr);

// The channel invalidations are published on in RESP2 redirect mode.
inline constexpr std::string_view kInvalidateChannel = "__redis__:invalidate";

}  // namespace gk

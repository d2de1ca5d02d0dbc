#include "common/store/tracking_link.h"

#include "common/redis/cluster_slots.h"
#include "common/store/key_schema.h"

namespace gk {

Result<RedisConnection::Ptr> connect_node(const RedisConfig& redis, const std::string& node) {
  if (redis.cluster.empty()) return RedisConnection::connect(redis);
  const auto address = parse_node_address(node);
  if (!address) return fail("bad node address " + node);
  return RedisConnection::connect(redis, address->host, address->port);
}

Result<TrackingConnections> open_tracking(const RedisConfig& redis, const std::string& node,
                                          const std::vector<std::string>& prefixes) {
  const auto address = parse_node_address(node);
  if (!address) return fail("bad node address " + node);
  TrackingConnections link;
  for (RedisConnection::Ptr* conn : {&link.tracker, &link.subscriber}) {
    auto connected = RedisConnection::connect(redis, address->host, address->port);
    if (!connected) return fail(connected.error());
    *conn = std::move(connected).value();
  }
  auto id = link.subscriber->command({"CLIENT", "ID"});
  if (!id || id->type != REDIS_REPLY_INTEGER) {
    return fail(node +
                ": CLIENT ID: " + (id ? describe_reply(id.get()) : link.subscriber->error()));
  }
  auto sub = link.subscriber->command({"SUBSCRIBE", kInvalidateChannel});
  if (!sub || sub->type != REDIS_REPLY_ARRAY) {
    return fail(node +
                ": SUBSCRIBE: " + (sub ? describe_reply(sub.get()) : link.subscriber->error()));
  }
  // Broadcast mode: every write under the prefixes is announced, read by us or not. Per-key
  // tracking would tie the announcement to the node that served the read (a slot can move)
  // and costs the server a table entry per key read, which it caps
  // (tracking-table-max-keys) by announcing keys that never changed.
  const std::string id_text = std::to_string(id->integer);
  std::vector<std::string_view> args = {"CLIENT", "TRACKING", "on", "REDIRECT", id_text, "BCAST"};
  for (const std::string& prefix : prefixes) {
    args.push_back("PREFIX");
    args.push_back(prefix);
  }
  auto tracking = link.tracker->command(args);
  if (!tracking || tracking->type == REDIS_REPLY_ERROR) {
    return fail(node + ": CLIENT TRACKING: " +
                (tracking ? describe_reply(tracking.get()) : link.tracker->error()));
  }
  return link;
}

Status scan_prefix(RedisConnection& conn, std::string_view prefix,
                   const std::function<void(const redisReply& keys)>& page,
                   const std::atomic<bool>* stop) {
  const std::string pattern = key_prefix_pattern(prefix);
  std::string cursor = "0";
  do {
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) return fail("stopped");
    auto reply = conn.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[1]->type != REDIS_REPLY_ARRAY) {
      return fail("SCAN: " + (reply ? describe_reply(reply.get()) : conn.error()));
    }
    cursor.assign(reply->element[0]->str, reply->element[0]->len);
    page(*reply->element[1]);
  } while (cursor != "0");
  return {};
}

}  // namespace gk

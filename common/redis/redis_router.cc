#include "common/redis/redis_router.h"

#include <algorithm>
#include <chrono>
#include <span>
#include <thread>

namespace gk {

namespace {

// Redirects chained further than this mean the cluster is reconfiguring faster than we can
// follow; the command fails and the caller's retry policy takes over.
constexpr int kMaxRedirects = 5;

// A multi-key command (a status write and its history entry) whose keys are split between
// the two ends of a slot migration gets TRYAGAIN: the migration of a slot's keys takes
// milliseconds, so a few short waits see it through.
constexpr int kMaxTryAgain = 50;
constexpr auto kTryAgainWait = std::chrono::milliseconds(10);

bool is_tryagain(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_ERROR &&
         std::string_view(r->str, r->len).starts_with("TRYAGAIN");
}

}  // namespace

Result<RedisRouter::Ptr> RedisRouter::connect(const RedisConfig& config) {
  auto router = std::make_unique<RedisRouter>(Token{}, config);
  if (!router->cluster_) {
    auto conn = RedisConnection::connect(config);
    if (!conn) return fail(conn.error());
    router->single_node_ = config.host + ":" + std::to_string(config.port);
    router->connections_.emplace(router->single_node_, std::move(conn).value());
    return router;
  }
  if (auto loaded = router->load_slot_map(); !loaded) return fail(loaded.error());
  for (const std::string& primary : router->map_.nodes()) {
    if (router->node(primary) == nullptr) return fail(router->error_);
  }
  return router;
}

Status RedisRouter::load_slot_map() {
  // Ask the nodes we know first, then the seeds: after a failover the seeds may be gone.
  std::vector<std::string> candidates;
  for (const auto& [name, conn] : connections_) candidates.push_back(name);
  candidates.insert(candidates.end(), config_.cluster.begin(), config_.cluster.end());
  std::string problems;
  for (const std::string& candidate : candidates) {
    const auto address = parse_node_address(candidate);
    if (!address) continue;
    RedisConnection* conn = nullptr;
    RedisConnection::Ptr temporary;
    if (auto it = connections_.find(candidate); it != connections_.end() && it->second->ok()) {
      conn = it->second.get();
    } else {
      auto connected = RedisConnection::connect(config_, address->host, address->port);
      if (!connected) {
        problems += (problems.empty() ? "" : "; ") + connected.error();
        continue;
      }
      temporary = std::move(connected).value();
      conn = temporary.get();
    }
    conn->append({"CLUSTER", "SLOTS"});
    conn->append({"CLUSTER", "NODES"});
    auto reply = conn->get_reply();
    auto nodes = reply ? conn->get_reply() : nullptr;
    std::string why;
    std::optional<SlotMap> map;
    if (nodes) {
      auto parsed = SlotMap::parse(reply.get(), address->host);
      if (parsed) {
        map = std::move(parsed).value();
      } else {
        why = parsed.error();
      }
    }
    if (!nodes) why = candidate + ": " + conn->error();
    if (map && nodes->type != REDIS_REPLY_STRING) {
      why = candidate + ": CLUSTER NODES: " + describe_reply(nodes.get());
      map.reset();
    }
    if (!map || map->covered() == 0) {
      if (map) why = candidate + ": no slot is served";
      problems += (problems.empty() ? "" : "; ") + why;
      continue;
    }
    std::vector<std::string> members = parse_cluster_nodes({nodes->str, nodes->len}, address->host);
    // Nodes list themselves in their own order: sorted, two answers compare equal.
    std::sort(members.begin(), members.end());
    if (!(*map == map_) || members != members_) ++topology_version_;
    map_ = std::move(*map);
    members_ = std::move(members);
    // Links to nodes that no longer serve slots are closed; a demoted primary must not keep
    // answering reads it would only redirect.
    for (auto it = connections_.begin(); it != connections_.end();) {
      const auto& nodes = map_.nodes();
      if (std::find(nodes.begin(), nodes.end(), it->first) == nodes.end()) {
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
    return {};
  }
  return fail("no cluster node gave a slot map (" + problems + ")");
}

RedisConnection* RedisRouter::node(const std::string& name) {
  if (auto it = connections_.find(name); it != connections_.end()) return it->second.get();
  const auto address = parse_node_address(name);
  if (!address) {
    broken("bad node address " + name);
    return nullptr;
  }
  auto conn = RedisConnection::connect(config_, address->host, address->port);
  if (!conn) {
    broken(conn.error());
    return nullptr;
  }
  return connections_.emplace(name, std::move(conn).value()).first->second.get();
}

const std::string& RedisRouter::node_for(std::string_view key) const {
  if (!cluster_) return single_node_;
  static const std::string kNone;
  const std::uint16_t index = map_.node_of(key_slot(key));
  return index == SlotMap::kNoNode ? kNone : map_.node(index);
}

void RedisRouter::broken(std::string error) {
  if (error_.empty()) error_ = error.empty() ? "Redis connection lost" : std::move(error);
}

RedisReplyPtr RedisRouter::run(const std::string& name, bool asking, const std::string_view* args,
                               std::size_t count) {
  if (name.empty()) {
    broken("no cluster node serves the slot");
    return nullptr;
  }
  RedisConnection* conn = node(name);
  if (conn == nullptr) return nullptr;
  RedisReplyPtr reply;
  if (asking) {
    conn->append({"ASKING"});
    conn->append(std::vector<std::string_view>(args, args + count));
    auto ack = conn->get_reply();
    reply = ack ? conn->get_reply() : nullptr;
  } else {
    reply = conn->command(std::vector<std::string_view>(args, args + count));
  }
  if (!reply) broken(name + ": " + conn->error());
  return reply;
}

RedisReplyPtr RedisRouter::routed(std::string_view key, const std::string_view* args,
                                  std::size_t count) {
  if (!ok()) return nullptr;
  std::string target = node_for(key);
  bool asking = false;
  bool moved = false;
  RedisReplyPtr reply;
  int tryagain = 0;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    reply = run(target, asking, args, count);
    if (cluster_ && is_tryagain(reply.get()) && tryagain < kMaxTryAgain) {
      ++tryagain;
      ++stats_.tryagain;
      --hop;
      std::this_thread::sleep_for(kTryAgainWait);
      continue;
    }
    const auto redirect = cluster_ ? parse_redirect(reply.get()) : std::nullopt;
    if (!redirect) break;
    target = redirect->node;
    asking = redirect->ask;
    if (redirect->ask) {
      ++stats_.ask;
    } else {
      ++stats_.moved;
      map_.assign(redirect->slot, redirect->node);
      ++topology_version_;
      moved = true;
    }
  }
  if (moved && !refresh()) return nullptr;
  return reply;
}

RedisReplyPtr RedisRouter::command(std::string_view key,
                                   std::initializer_list<std::string_view> args) {
  return routed(key, args.begin(), args.size());
}

RedisReplyPtr RedisRouter::command(std::string_view key,
                                   const std::vector<std::string_view>& args) {
  return routed(key, args.data(), args.size());
}

void RedisRouter::split(const std::vector<Command>& commands, std::size_t count) {
  for (Share& share : shares_) share.indexes.clear();
  shares_used_ = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string& name = cluster_ ? node_for(commands[i].key) : single_node_;
    std::size_t s = 0;
    while (s < shares_used_ && shares_[s].node != name) ++s;
    if (s == shares_used_) {
      if (s == shares_.size()) shares_.emplace_back();
      shares_[s].node = name;
      ++shares_used_;
    }
    shares_[s].indexes.push_back(i);
  }
}

bool RedisRouter::pipeline(const std::vector<Command>& commands, std::size_t count,
                           std::vector<RedisReplyPtr>& replies) {
  replies.clear();
  replies.resize(count);
  if (!ok()) return false;
  split(commands, count);
  const auto shares = std::span(shares_).first(shares_used_);
  // Every node gets its whole share before any reply is read, so the round trips overlap.
  for (const Share& share : shares) {
    if (share.node.empty()) {
      broken("no cluster node serves the slot of " + std::string(commands[share.indexes[0]].key));
      return false;
    }
    RedisConnection* conn = node(share.node);
    if (conn == nullptr) return false;
    for (std::size_t i : share.indexes) conn->append(commands[i].args);
  }
  redirected_.clear();
  for (const Share& share : shares) {
    RedisConnection* conn = node(share.node);
    for (std::size_t i : share.indexes) {
      replies[i] = conn->get_reply();
      if (!replies[i]) {
        broken(share.node + ": " + conn->error());
        return false;
      }
      if (cluster_ && parse_redirect(replies[i].get())) redirected_.push_back(i);
    }
  }
  // Slots on the move are rare: those few commands go again, one at a time.
  for (std::size_t i : redirected_) {
    replies[i] = command(commands[i].key, commands[i].args);
    if (!replies[i]) return false;
  }
  return true;
}

bool RedisRouter::ping() {
  if (!ok()) return false;
  for (auto& [name, conn] : connections_) {
    conn->append({"PING"});
  }
  for (auto& [name, conn] : connections_) {
    auto reply = conn->get_reply();
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
      broken(name + ": PING " + (reply ? describe_reply(reply.get()) : conn->error()));
      return false;
    }
  }
  return !cluster_ || refresh();
}

bool RedisRouter::refresh() {
  if (!cluster_) return ok();
  if (auto loaded = load_slot_map(); !loaded) {
    broken(loaded.error());
    return false;
  }
  return true;
}

std::vector<std::string> RedisRouter::primaries() const {
  if (!cluster_) return {single_node_};
  return map_.nodes();
}

std::vector<std::string> RedisRouter::replicas() const {
  std::vector<std::string> out;
  if (!cluster_) return out;
  const auto& primaries = map_.nodes();
  for (const std::string& node : members_) {
    if (std::find(primaries.begin(), primaries.end(), node) == primaries.end()) {
      out.push_back(node);
    }
  }
  return out;
}

}  // namespace gk

#include "bench/backend.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "bench/load.h"
#include "common/redis/redis_router.h"

namespace gk::bench {

Backend::Backend(bool cluster) {
  if (!cluster) {
    server_ = std::make_unique<test::RedisServer>();
    config_ = server_->config();
    return;
  }
  // Redis' own default node timeout: a benchmark starves the nodes of CPU, and with no
  // replica to fail over to, a primary marked failing would only stop the cluster.
  cluster_ = std::make_unique<test::RedisCluster>(kClusterPrimaries, 0, 15000);
  const int port = cluster_->ports().front();
  config_.url = "redis://127.0.0.1:" + std::to_string(port) + "/0";
  config_.host = "127.0.0.1";
  config_.port = port;
  config_.cluster = cluster_->seeds();
  // Learn the slot map now rather than inside the first timed command.
  cluster_->routed("gk-bench", {"EXISTS", "gk-bench"});
}

std::string Backend::describe() const {
  if (!cluster()) return "one redis-server on port " + std::to_string(config_.port);
  std::string ports;
  for (int port : cluster_->ports()) ports += (ports.empty() ? "" : ", ") + std::to_string(port);
  return "Redis Cluster, " + std::to_string(kClusterPrimaries) + " primaries, no replicas (ports " +
         ports + ")";
}

void Backend::configure(test::GatekeeperOptions& options) const {
  options.redis_port = config_.port;
  if (!cluster()) return;
  std::string seeds;
  for (const auto& seed : config_.cluster) seeds += (seeds.empty() ? "\"" : ", \"") + seed + "\"";
  options.redis_extra += "cluster = [" + seeds + "]\n";
}

RedisReplyPtr Backend::command(const std::string& key, const std::vector<std::string>& args) {
  return cluster() ? cluster_->routed(key, args) : server_->command(args);
}

test::RedisCluster::RoutingStats Backend::redirects() const {
  return cluster() ? cluster_->routing_stats() : test::RedisCluster::RoutingStats{};
}

std::map<int, long long> Backend::keys_per_node() {
  std::map<int, long long> keys;
  const std::vector<int> ports =
      cluster() ? cluster_->primary_ports() : std::vector<int>{config_.port};
  for (int port : ports) {
    auto r = cluster() ? cluster_->command(port, {"DBSIZE"}) : server_->command({"DBSIZE"});
    keys[port] = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
  }
  return keys;
}

Counters Backend::tracking() {
  Counters sum = {{"tracking_total_keys", 0}, {"tracking_total_prefixes", 0}};
  for (const auto& [port, keys] : keys_per_node()) {
    auto r = cluster() ? cluster_->command(port, {"INFO", "stats"})
                       : server_->command({"INFO", "stats"});
    if (r->type != REDIS_REPLY_STRING) continue;
    std::istringstream lines(std::string(r->str, r->len));
    for (std::string line; std::getline(lines, line);) {
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      const auto it = sum.find(line.substr(0, colon));
      if (it != sum.end()) it->second += std::stod(line.substr(colon + 1));
    }
  }
  return sum;
}

void seed(const RedisConfig& redis, std::uint64_t first, std::uint64_t count,
          std::uint64_t opt_out_every, bool with_leads) {
  auto connected = RedisRouter::connect(redis);
  if (!connected) throw std::runtime_error("seeding Redis: " + connected.error());
  RedisRouter::Ptr router = std::move(connected).value();
  constexpr std::uint64_t kBatch = 10000;
  std::vector<std::string> keys;
  std::vector<RedisRouter::Command> commands;
  std::vector<RedisReplyPtr> replies;
  for (std::uint64_t base = first; base < first + count; base += kBatch) {
    const std::uint64_t end = std::min(first + count, base + kBatch);
    keys.clear();
    for (std::uint64_t p = base; p < end; ++p) keys.push_back("gk:u:retail-eu:" + person_id(p));
    if (with_leads) {
      for (std::uint64_t p = base; p < end; ++p) {
        keys.push_back("gk:l:retail-eu:" + person_email(p));
      }
    }
    commands.clear();
    for (std::uint64_t p = base; p < end; ++p) {
      const std::string& key = keys[p - base];
      const bool out = opt_out_every > 0 && p % opt_out_every == 0;
      commands.push_back({key, {"HSET", key, "MAIL", out ? "1" : "0", "MAIL:ts", "1764000000000"}});
    }
    for (std::size_t i = end - base; i < keys.size(); ++i) {
      commands.push_back({keys[i], {"HSET", keys[i], "SMS", "0", "SMS:ts", "1764000000000"}});
    }
    if (!router->pipeline(commands, replies)) {
      throw std::runtime_error("seeding Redis: " + router->error());
    }
    for (const auto& r : replies) {
      if (r->type != REDIS_REPLY_INTEGER) {
        throw std::runtime_error("seeding Redis: HSET answered " + describe_reply(r.get()));
      }
    }
  }
}

const std::vector<std::string> kStoreCounters = {
    "gk_redis_moved_total",    "gk_redis_ask_total",
    "gk_redis_tryagain_total", "gk_redis_cluster_topology_changes_total",
    "gk_redis_errors_total",   "gk_redis_connects_total",
    "gk_cache_misses_total",   "gk_cache_invalidations_total",
    "gk_cache_flushes_total"};

Counters store_counters(const std::vector<int>& http_ports) {
  Counters sum;
  for (const auto& name : kStoreCounters) sum[name] = 0;
  for (int port : http_ports) {
    std::istringstream lines(test::http_get(port, "/metrics").body);
    for (std::string line; std::getline(lines, line);) {
      // "name value": a family without labels; comments and labelled samples are skipped.
      const std::size_t space = line.find(' ');
      if (line.empty() || line[0] == '#' || space == std::string::npos) continue;
      const auto it = sum.find(line.substr(0, space));
      if (it != sum.end()) it->second += std::stod(line.substr(space + 1));
    }
  }
  return sum;
}

Counters difference(const Counters& after, const Counters& before) {
  Counters d = after;
  for (auto& [name, value] : d) {
    const auto it = before.find(name);
    if (it != before.end()) value -= it->second;
  }
  return d;
}

std::string describe(const Counters& counters) {
  std::string out;
  for (const auto& [name, value] : counters) {
    std::string_view shown = name;
    if (shown.starts_with("gk_")) shown.remove_prefix(3);
    if (shown.ends_with("_total")) shown.remove_suffix(6);
    char number[32];
    std::snprintf(number, sizeof(number), "%.0f", value);
    out += (out.empty() ? "" : ", ") + std::string(shown) + " " + number;
  }
  return out;
}

}  // namespace gk::bench

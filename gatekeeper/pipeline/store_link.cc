#include "gatekeeper/pipeline/store_link.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace gk {

namespace {
constexpr auto kStoreCheckInterval = std::chrono::milliseconds(500);
}  // namespace

StoreLink::StoreLink(StatusReader& reader, const Config& config, PipelineStats& stats,
                     Health& health)
    : reader_(reader),
      config_(config),
      stats_(stats),
      health_(health),
      backoff_(config.on_store_unavailable.retry_initial_ms) {}

void StoreLink::ensure_connected(Clock::time_point now) {
  if (reader_.connected()) {
    health_.redis_up = true;
    return;
  }
  health_.redis_up = false;
  if (now < next_connect_) return;
  const Status connected = reader_.connect();
  if (connected) {
    if (config_.redis.cluster.empty()) {
      spdlog::info("connected to Redis {}:{}", config_.redis.host, config_.redis.port);
    } else {
      spdlog::info("connected to Redis Cluster: primaries {}", fmt::join(reader_.nodes(), ", "));
    }
    stats_.reconnects.add();
    backoff_ = std::chrono::milliseconds(config_.on_store_unavailable.retry_initial_ms);
    last_check_ = now;
    health_.redis_up = true;
    return;
  }
  spdlog::warn("Redis unavailable ({}); retrying in {} ms", connected.error(), backoff_.count());
  stats_.store_errors.add();
  next_connect_ = now + backoff_;
  backoff_ =
      std::min(backoff_ * 2, std::chrono::milliseconds(config_.on_store_unavailable.retry_max_ms));
}

void StoreLink::probe_if_due(Clock::time_point now, bool loop_caught_up) {
  reader_.tick();
  const auto check_interval = config_.redis.cluster.empty()
                                  ? kStoreCheckInterval
                                  : std::chrono::milliseconds(config_.redis.cluster_refresh_ms);
  if (!reader_.connected() || !probe_due(now - last_check_, check_interval, loop_caught_up)) {
    return;
  }
  last_check_ = now;
  if (!reader_.ping()) on_failure("PING failed");
  publish_stats();
}

void StoreLink::on_failure(const std::string& error) {
  spdlog::warn("Redis failure: {}; holding messages that need a lookup", error);
  stats_.store_errors.add();
  reader_.disconnect();
  health_.redis_up = false;
  next_connect_ = Clock::now();
}

void StoreLink::publish_stats() {
  const auto& rs = reader_.stats();
  stats_.cache_entries.set(reader_.cache().size());
  stats_.cache_bytes.set(reader_.cache().bytes());
  stats_.email_index_ready.set(reader_.email_index().ready() ? 1 : 0);
  stats_.email_index_entries.set(reader_.email_index().size());
  stats_.email_index_scans.set(rs.email_index_scans);
  stats_.email_index_scan_failures.set(rs.email_index_scan_failures);
  stats_.cache_hits.set(rs.hits);
  stats_.cache_misses.set(rs.misses);
  stats_.cache_invalidations.set(rs.invalidations);
  stats_.cache_flushes.set(rs.flushes);
  stats_.cache_evictions.set(reader_.cache().evictions());
  stats_.redis_fetch_rounds.set(rs.fetch_rounds);
  stats_.redis_keys_fetched.set(rs.keys_fetched);
  stats_.redis_moved.set(rs.redirects.moved);
  stats_.redis_ask.set(rs.redirects.ask);
  stats_.redis_tryagain.set(rs.redirects.tryagain);
  stats_.cluster_topology_changes.set(rs.topology_changes);
  stats_.cluster_link_errors.set(rs.link_errors);
}

}  // namespace gk

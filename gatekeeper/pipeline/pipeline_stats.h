#pragma once

#include <array>

#include "common/rules/channels.h"
#include "common/rules/verdict.h"
#include "common/util/counters.h"
#include "gatekeeper/ops/health.h"

namespace gk {

// What the message loop has done. Conservation: received = forwarded + suppressed +
// rejected + held + backlog (+ in flight inside one loop turn).
struct PipelineStats {
  LocalCounter received;
  LocalCounter forwarded;
  LocalCounter suppressed;
  LocalCounter rejected;
  LocalCounter held;  // gauge: waiting for the store
  LocalCounter held_total;
  LocalCounter backlog;  // gauge: permitted messages waiting for full or absent adapters
  LocalCounter intake_pauses;
  LocalCounter store_errors;
  LatencyHistogram redis_round_trip;  // one pipelined lookup (all its rounds)
  LatencyHistogram decision_latency;  // taken from the socket -> forwarded or decided
  LocalCounter http_queue_overflows;  // written by the HTTP accepting thread only
  LocalCounter config_reloads;        // written by the signal thread only
  LocalCounter config_reload_failures;
  LocalCounter curve_admitted;  // written by the ZAP handler's thread only
  LocalCounter curve_refused;
  LocalCounter reconnects;
  LocalCounter cache_hits;
  LocalCounter cache_misses;
  LocalCounter cache_entries;  // gauge
  LocalCounter cache_invalidations;
  LocalCounter cache_flushes;
  LocalCounter cache_evictions;  // dropped to stay within cache.max_entries
  LocalCounter redis_fetch_rounds;
  LocalCounter redis_keys_fetched;
  LocalCounter redis_moved;  // cluster redirects and retries, as the reader counts them
  LocalCounter redis_ask;
  LocalCounter redis_tryagain;
  LocalCounter cluster_topology_changes;
  LocalCounter cluster_link_errors;
  // Per channel (last slot: unknown channel) and reason; forwarded has reason kNone.
  std::array<std::array<LocalCounter, kReasonCount>, kMaxChannelTypes + 1> by_channel_reason;
};

}  // namespace gk

#pragma once

#include <array>
#include <string_view>

#include "common/rules/channels.h"
#include "common/rules/verdict.h"
#include "common/util/counters.h"
#include "gatekeeper/ops/health.h"

namespace gk {

enum class StatKind { kCounter, kGauge };

// The one list of the message loop's scalar statistics: member, kind, exported name, help.
// PipelineStats and the /metrics page are both generated from it, so a statistic cannot be
// counted and never shown, or shown under two names.
// clang-format off
#define GK_PIPELINE_SCALARS(X)                                                                 \
  X(received, kCounter, "gk_messages_received_total",                                           \
    "Candidate messages taken from the ingress socket.")                                        \
  X(forwarded, kCounter, "gk_messages_forwarded_total", "Messages forwarded to a channel adapter.") \
  X(suppressed, kCounter, "gk_messages_suppressed_total",                                       \
    "Messages suppressed by a person's status.")                                                \
  X(rejected, kCounter, "gk_messages_rejected_total",                                           \
    "Messages rejected (malformed, unknown channel, ...).")                                     \
  X(held, kGauge, "gk_messages_held", "Messages waiting for the status store.")                 \
  X(held_total, kCounter, "gk_messages_held_total",                                             \
    "Messages that had to wait for the status store.")                                          \
  X(backlog, kGauge, "gk_messages_backlog",                                                     \
    "Permitted messages waiting for a full or absent channel adapter.")                         \
  X(intake_pauses, kCounter, "gk_intake_pauses_total",                                          \
    "Times intake paused because an adapter backlog was full.")                                 \
  X(cache_hits, kCounter, "gk_cache_hits_total",                                                \
    "Status lookups answered by the in-process cache.")                                         \
  X(cache_misses, kCounter, "gk_cache_misses_total", "Status lookups that needed Redis.")       \
  X(cache_entries, kGauge, "gk_cache_entries", "Redis keys held in the in-process cache.")      \
  X(cache_bytes, kGauge, "gk_cache_bytes", "Memory of the in-process cache's tables.")         \
  X(email_index_ready, kGauge, "gk_email_index_ready",                                          \
    "1 once the index of emails with a lead record or link is complete, else 0.")               \
  X(email_index_entries, kGauge, "gk_email_index_entries",                                      \
    "Emails known to have (or to have had) a lead record or a link.")                           \
  X(email_index_scans, kCounter, "gk_email_index_scans_total",                                  \
    "Finished scans of Redis for the email index.")                                             \
  X(email_index_scan_failures, kCounter, "gk_email_index_scan_failures_total",                  \
    "Scans for the email index that failed (retried after 5 s).")                               \
  X(cache_invalidations, kCounter, "gk_cache_invalidations_total",                              \
    "Keys evicted by Redis invalidation messages.")                                             \
  X(cache_flushes, kCounter, "gk_cache_flushes_total",                                          \
    "Whole-cache clears (invalidation link lost, FLUSHALL).")                                   \
  X(cache_evictions, kCounter, "gk_cache_evictions_total",                                      \
    "Records dropped to stay within cache.max_entries or cache.max_memory_mb.")                                        \
  X(redis_fetch_rounds, kCounter, "gk_redis_fetch_rounds_total", "Pipelined Redis lookup rounds.") \
  X(redis_keys_fetched, kCounter, "gk_redis_keys_fetched_total",                                \
    "Redis keys read by cache-miss lookups.")                                                   \
  X(redis_moved, kCounter, "gk_redis_moved_total",                                              \
    "Cluster: lookups redirected by MOVED (a slot had moved).")                                 \
  X(redis_ask, kCounter, "gk_redis_ask_total",                                                  \
    "Cluster: lookups redirected by ASK (a slot was migrating).")                               \
  X(redis_tryagain, kCounter, "gk_redis_tryagain_total", "Cluster: lookups retried after TRYAGAIN.") \
  X(cluster_topology_changes, kCounter, "gk_redis_cluster_topology_changes_total",              \
    "Cluster: slot map or node set changes seen by the lookup path.")                           \
  X(cluster_link_errors, kCounter, "gk_redis_cluster_link_errors_total",                        \
    "Cluster: invalidation links to replicas that could not be opened (retried).")              \
  X(http_queue_overflows, kCounter, "gk_http_queue_overflows_total",                            \
    "HTTP requests that waited in the acceptor because every worker was busy and the "          \
    "worker queue was full.")                                                                   \
  X(config_reloads, kCounter, "gk_config_reloads_total", "Configuration reloads applied (SIGHUP).") \
  X(config_reload_failures, kCounter, "gk_config_reload_failures_total",                        \
    "Reloads refused because the file did not load; the running config stayed.")               \
  X(curve_admitted, kCounter, "gk_curve_clients_admitted_total",                                \
    "CURVE handshakes admitted by the allow-list.")                                             \
  X(curve_refused, kCounter, "gk_curve_clients_refused_total",                                  \
    "CURVE clients refused: key not on the allow-list.")                                        \
  X(suppressed_addresses, kGauge, "gk_suppressed_addresses",                                   \
    "Suppressed addresses held in process (PROTOCOL.md 11).")                                   \
  X(tombstones, kGauge, "gk_erasure_tombstones", "Erasure tombstones held in process.")        \
  X(address_book_synced, kGauge, "gk_address_book_synced",                                      \
    "1 while the in-process addresses and tombstones are in step with Redis, else 0 "           \
    "(messages wait, as for a store outage).")                                                  \
  X(store_errors, kCounter, "gk_redis_errors_total", "Redis connection or command failures.")   \
  X(reconnects, kCounter, "gk_redis_connects_total",                                            \
    "Successful (re)connections of the lookup links.")
// clang-format on

// What the message loop has done. Conservation: received = forwarded + suppressed +
// rejected + held + backlog (+ in flight inside one loop turn). Each counter has one
// writer: the message loop, except http_queue_overflows (the HTTP acceptor), the reload
// counters (the signal thread) and the CURVE counters (the ZAP handler's thread).
struct PipelineStats {
#define GK_DECLARE_STAT(member, kind, name, help) LocalCounter member;
  GK_PIPELINE_SCALARS(GK_DECLARE_STAT)
#undef GK_DECLARE_STAT
  LatencyHistogram redis_round_trip;  // one pipelined lookup (all its rounds)
  LatencyHistogram decision_latency;  // taken from the socket -> forwarded or decided
  // Per channel (last slot: unknown channel) and reason; forwarded has reason kNone.
  std::array<std::array<LocalCounter, kReasonCount>, kMaxChannelTypes + 1> by_channel_reason;
};

struct ScalarStat {
  LocalCounter PipelineStats::*member;
  StatKind kind;
  std::string_view name;
  std::string_view help;
};

#define GK_DESCRIBE_STAT(member, kind, name, help) \
  ScalarStat{&PipelineStats::member, StatKind::kind, name, help},
inline constexpr std::array kPipelineScalars = {GK_PIPELINE_SCALARS(GK_DESCRIBE_STAT)};
#undef GK_DESCRIBE_STAT

}  // namespace gk

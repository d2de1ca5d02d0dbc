#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "common/channels.h"
#include "common/verdict.h"

namespace gk {

// A counter with one writer (the message loop) and any number of readers (scrapes): a
// relaxed load and store, no locked instruction on the hot path.
class LocalCounter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(std::uint64_t n) noexcept { value_.store(n, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A latency histogram with one writer: fixed buckets (upper bounds in microseconds), each a
// LocalCounter, so recording is a compare loop and two relaxed stores.
class LatencyHistogram {
 public:
  static constexpr std::array<std::uint64_t, 13> kBoundsUs = {
      10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000};

  void record(std::chrono::nanoseconds elapsed) noexcept {
    const auto us = static_cast<std::uint64_t>(elapsed.count() / 1000);
    std::size_t i = 0;
    while (i < kBoundsUs.size() && us > kBoundsUs[i]) ++i;
    buckets_[i].add();  // the last slot is +Inf
    sum_ns_.add(static_cast<std::uint64_t>(elapsed.count()));
  }
  std::uint64_t bucket(std::size_t i) const noexcept { return buckets_[i].get(); }
  std::uint64_t sum_ns() const noexcept { return sum_ns_.get(); }

 private:
  std::array<LocalCounter, kBoundsUs.size() + 1> buckets_;
  LocalCounter sum_ns_;
};

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
  LocalCounter redis_fetch_rounds;
  LocalCounter redis_moved;  // cluster redirects and retries, as the reader counts them
  LocalCounter redis_ask;
  LocalCounter redis_tryagain;
  LocalCounter cluster_topology_changes;
  LocalCounter cluster_link_errors;
  // Per channel (last slot: unknown channel) and reason; forwarded has reason kNone.
  std::array<std::array<LocalCounter, kReasonCount>, kMaxChannelTypes + 1> by_channel_reason;
};

// Readiness as /readyz reports it.
struct Health {
  std::atomic<bool> redis_up{false};
  std::atomic<bool> sockets_bound{false};
  std::atomic<bool> stopping{false};
};

}  // namespace gk

#pragma once

#include <array>
#include <atomic>
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

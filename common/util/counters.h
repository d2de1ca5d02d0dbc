#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

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

}  // namespace gk

#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace gk {

// Lets one warning through per interval and counts the rest, so a flood of bad input cannot
// flood the log; the counters (not the log) are the record of how many there were.
class LogLimiter {
 public:
  explicit LogLimiter(std::chrono::milliseconds interval = std::chrono::seconds(1))
      : interval_ms_(interval.count()) {}

  // True when this occurrence may be logged; `suppressed` is how many were not since the
  // last one that was.
  bool allow(std::uint64_t& suppressed) noexcept {
    const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
    std::int64_t last = last_ms_.load(std::memory_order_relaxed);
    if (now - last >= interval_ms_ &&
        last_ms_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
      suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
      return true;
    }
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

 private:
  const std::int64_t interval_ms_;
  std::atomic<std::int64_t> last_ms_{INT64_MIN / 2};
  std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace gk

#pragma once

#include <atomic>

namespace gk {

// Readiness as /readyz reports it.
struct Health {
  std::atomic<bool> redis_up{false};
  std::atomic<bool> sockets_bound{false};
  // The in-process suppressed addresses and tombstones are in step with Redis: until then
  // the loop holds messages (and would let realtime transactional ones pass unchecked).
  std::atomic<bool> addresses_synced{false};
  std::atomic<bool> stopping{false};
};

}  // namespace gk

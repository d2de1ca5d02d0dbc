#pragma once

#include <atomic>

namespace gk {

// Readiness as /readyz reports it.
struct Health {
  std::atomic<bool> redis_up{false};
  std::atomic<bool> sockets_bound{false};
  std::atomic<bool> stopping{false};
};

}  // namespace gk

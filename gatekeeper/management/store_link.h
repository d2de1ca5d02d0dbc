#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "common/config/config.h"
#include "common/redis/redis_router.h"

namespace gk {

// One Redis router shared by the address, erasure and bulk routes, used under a mutex: these
// calls are rare (or, for imports, one client at a time), so one link is enough. A broken
// router is replaced on the next call.
class StoreLink {
 public:
  explicit StoreLink(const RedisConfig& redis) : redis_(redis) {}

  // Runs `op(router, error)`, which returns an optional; nullopt and `error` on failure.
  template <typename Op>
  auto run(std::string& error, Op&& op) -> decltype(op(std::declval<RedisRouter&>(), error)) {
    std::lock_guard lock(mutex_);
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool fresh = !router_;
      if (!router_) router_ = RedisRouter::connect(redis_, error);
      if (!router_) return std::nullopt;
      if (auto result = op(*router_, error)) return result;
      if (router_->ok()) return std::nullopt;
      router_.reset();
      if (fresh) break;
    }
    return std::nullopt;
  }

  const RedisConfig& redis() const noexcept { return redis_; }

 private:
  const RedisConfig redis_;
  std::mutex mutex_;
  RedisRouter::Ptr router_;
};

}  // namespace gk

#pragma once

#include <mutex>
#include <utility>

#include "common/config/config.h"
#include "common/redis/redis_router.h"
#include "common/util/result.h"

namespace gk {

// One Redis router shared by the address and erasure services, used under a mutex: their
// calls are rare next to status changes, so one link is enough. A broken router is
// replaced on the next call; a call that broke a router that had sat idle is tried once
// more on a fresh one (the server may have restarted meanwhile).
class SharedRouter {
 public:
  explicit SharedRouter(const RedisConfig& redis) : redis_(redis) {}

  // Runs `op(router)`, which returns a Result.
  template <typename Op>
  auto run(Op&& op) -> decltype(op(std::declval<RedisRouter&>())) {
    std::lock_guard lock(mutex_);
    std::string error;
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool fresh = !router_;
      if (!router_) {
        auto connected = RedisRouter::connect(redis_);
        if (!connected) return fail(connected.error());
        router_ = std::move(connected).value();
      }
      auto result = op(*router_);
      if (result || router_->ok()) return result;
      error = result.error();
      router_.reset();
      if (fresh) break;
    }
    return fail(error);
  }

 private:
  const RedisConfig redis_;
  std::mutex mutex_;
  RedisRouter::Ptr router_;
};

}  // namespace gk

#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/redis_connection.h"
#include "common/redis/redis_router.h"
#include "common/util/result.h"

namespace gk {

// A Lua script sent by digest (EVALSHA), in full (EVAL) only to a node that does not know it
// yet (first use, restart, SCRIPT FLUSH). Thread-safe: the digest is learnt once per process.
class LuaScript {
 public:
  explicit LuaScript(std::string text) : text_(std::move(text)) {}

  // Runs on the node of keys[0] (the only node when not in cluster mode). An error on an I/O
  // failure (the reply is then never null); error replies come back as they are.
  Result<RedisReplyPtr> run(RedisRouter& redis, const std::vector<std::string_view>& keys,
                            const std::vector<std::string_view>& args) const;

 private:
  std::string digest() const;

  const std::string text_;
  mutable std::mutex mutex_;
  mutable std::string sha_;
};

// The Lua helpers every status script starts with: is_set(v) reads a stored value the way
// the message path does, stamp(key, field) is a field's change time (0 when missing or past
// `horizon`, which a script sets from its arguments), merge_fields(into, flat) merges a
// lead's HGETALL into a user (newer change per field).
std::string_view lua_status_prelude() noexcept;

}  // namespace gk

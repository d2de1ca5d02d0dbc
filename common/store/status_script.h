#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/config/config.h"
#include "common/redis/redis_connection.h"
#include "common/redis/redis_router.h"
#include "common/util/timestamp.h"

namespace gk {

// One status write as the Lua script takes it: who (resolved inside the script, so the link
// read and the write cannot interleave with another writer), which field, the value and
// its time, and what to record in the person's history.
struct StatusWrite {
  std::string bu;
  std::string external_id;  // may be empty (lead)
  std::string email;        // may be empty; lower-cased by the script's caller
  std::string field;        // canonical channel, "ALL" or "BLACKLIST"; empty = link only
  bool value = false;
  EpochMs ts = 0;          // time of the change: last writer wins by this, not by arrival
  EpochMs received = 0;    // time the gatekeeper took it, for the history
  std::string source;      // "api", "event", "esp"
  std::string event;       // the event name the change came from
  std::string properties;  // JSON object text
};

// What the script did to the addressed record.
struct StatusWriteResult {
  bool old_value = false;  // stored before the write
  bool new_value = false;  // requested
  bool applied = false;    // false: an equal or newer change was already stored
  bool changed = false;    // applied and the stored value differs from before
};

// One status change: on a single server one atomic script (resolve, link, merge, write,
// history); on a cluster the idempotent steps of status_write_cluster.h. On failure returns
// nullopt and says why in `error`; the router may then be broken (`redis.ok()`), which is
// the caller's cue to replace it.
std::optional<StatusWriteResult> run_status_script(RedisRouter& redis, const RedisConfig& config,
                                                   const StatusWrite& write, std::string& error);

// The scripts' reply {old, applied} as a result.
std::optional<StatusWriteResult> parse_status_reply(const redisReply* reply, bool value,
                                                    std::string& error);

}  // namespace gk

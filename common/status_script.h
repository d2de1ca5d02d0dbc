#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/redis_connection.h"
#include "common/timestamp.h"

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

// The Lua text (see the comment at its top for the key layout it writes).
std::string_view status_script_text() noexcept;

// Runs the script with EVALSHA, loading it with EVAL when the server does not know it
// (restart, SCRIPT FLUSH). On failure returns nullopt and says why in `error`; the
// connection may then be broken (`conn.ok()`), which is the caller's cue to replace it.
std::optional<StatusWriteResult> run_status_script(RedisConnection& conn, const RedisConfig& redis,
                                                   const StatusWrite& write, std::string& error);

}  // namespace gk

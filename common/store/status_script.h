#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/redis/redis_connection.h"
#include "common/redis/redis_router.h"
#include "common/util/result.h"
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
  bool old_value = false;          // stored before the write
  bool new_value = false;          // requested
  bool applied = false;            // false: an equal or newer change was already stored
  bool changed = false;            // applied and the stored value differs from before
  EpochMs ts = 0;                  // the time the change was compared and stored with
  bool timestamp_clamped = false;  // `ts` is the time of receipt, not the far-future time given
  // The email was not linked: the user is at max_emails_per_user. The change went to the
  // user and to the email's lead record.
  bool link_refused = false;
};

// The bounds a status write keeps ([changes], [identity] in the configuration).
struct StatusLimits {
  EpochMs now = 0;  // the writer's clock; 0: read at the call
  EpochMs max_future_ms = 300000;
  std::size_t max_emails_per_user = 100;
};

// A change time past now + max_future_ms becomes the time of receipt (now, if `received` is
// unset or itself past the bound); `clamped` says whether it did. Times within the bound are
// kept as given. Refusing would lose a real opt-out from a producer with a bad clock;
// clamping keeps it and still lets every later real change win.
EpochMs clamp_change_time(EpochMs ts, EpochMs received, EpochMs now, EpochMs max_future_ms,
                          bool& clamped) noexcept;

// One status change: on a single server one atomic script (resolve, link, merge, write,
// history); on a cluster the idempotent steps of status_write_cluster.h. Every path keeps
// `limits`: the change time is clamped (clamp_change_time), a stored time past the bound
// counts as older than any real change, and a user at max_emails_per_user gets no new
// email linked. On failure the error says why; the router may then be broken
// (`redis.ok()`), which is the caller's cue to replace it.
Result<StatusWriteResult> run_status_script(RedisRouter& redis, const RedisConfig& config,
                                            const StatusWrite& write,
                                            const StatusLimits& limits = {});

// The text of every Lua script a status write runs (single server and cluster), for the test
// that they spell no key kind themselves but take the prefixes from the KeySchema.
std::vector<std::string> status_script_sources();

// The scripts' reply {old, applied[, link refused]} as a result.
Result<StatusWriteResult> parse_status_reply(const redisReply* reply, bool value);

}  // namespace gk

#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/redis/redis_router.h"
#include "common/store/key_schema.h"
#include "common/store/status_script.h"
#include "common/util/result.h"

namespace gk {

// A status change on Redis Cluster, where a person's keys live in different slots and one
// script cannot touch them all. The steps are ordered so that a reader, which ORs every
// record a message names, never sees an opt-out vanish, and each step is idempotent, so a
// change that failed half-way is completed by its retry (or by the next change that links
// the same pair):
//  1. by email only: the link says which user the email belongs to;
//  2. linking (unless the user already has `max_links` other emails; then the email stays
//     unlinked and the change also goes to its lead record, step 3): the email joins the user's set
//     of linked emails, the lead's statuses are merged into the user (per field, newer wins), the
//     link is set, and only then is the lead deleted, and only if unchanged since it was merged;
//  3. the write and its history entry: one script on the status hash's slot;
//  4. a user's change goes to every lead still present for its linked emails.
// `entry_head` is the history entry without its last keys (see status_script.cc); a stored
// time past `horizon` counts as older than any real change. `write.ts` is already clamped.
// The text of the scripts above (status_script_sources() includes them).
std::vector<std::string> cluster_status_script_sources();

Result<StatusWriteResult> run_cluster_status_write(RedisRouter& redis, const RedisConfig& config,
                                                   const KeySchema& keys, const StatusWrite& write,
                                                   std::string_view entry_head, EpochMs horizon,
                                                   std::size_t max_links);

}  // namespace gk

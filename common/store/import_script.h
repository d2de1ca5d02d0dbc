#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/redis/redis_router.h"
#include "common/store/key_schema.h"
#include "common/util/result.h"
#include "common/util/timestamp.h"

namespace gk {

// One row of a bulk import (PROTOCOL.md 12) as the import script takes it: a status of a
// user or a lead, or an address suppression, already checked and in its stored form.
struct ImportWrite {
  enum class Kind { kUser, kLead, kAddress };
  Kind kind = Kind::kUser;
  std::string bu;
  std::string who;    // external id, normalised email, or the address in its stored form
  std::string field;  // status field; addresses: the channel
  bool value = false;
  EpochMs ts = 0;     // already clamped by the caller
  std::string extra;  // the event name recorded in the history; addresses: the reason
};

// What the script did with one row.
enum class ImportOutcome {
  kOlder = 0,    // a newer change is stored: not applied
  kSame = 1,     // applied, the value was already stored
  kChanged = 2,  // applied, the value changed (history entry pushed)
  kLinked = 3,   // the person has a link (an email linked to a user, a user with linked
                 // emails): nothing done, the caller takes the full status-write path
};

struct ImportBatchOptions {
  bool dry_run = false;  // compare only, write nothing
  EpochMs horizon = 0;   // stored times past this count as 0 (clamp_change_time's bound)
  EpochMs received = 0;  // when the gatekeeper took the rows, for the history
};

// Applies the rows last-writer-wins, each with the result a status write of that row would
// have: on a single server in scripts of several hundred rows each (all sent in one
// pipeline); on a cluster, after one pipelined round that finds which rows involve a link,
// in one script per hash slot. A row whose person has a link comes back kLinked (unless
// dry_run: then it is compared with the record it would change). An error when the store
// failed: rows may then have been applied in part (applying them again is harmless).
Result<std::vector<ImportOutcome>> run_import_batch(RedisRouter& redis, const RedisConfig& config,
                                                    const std::vector<ImportWrite>& rows,
                                                    const ImportBatchOptions& options);

// The script's text, for the test that no script spells a key kind.
std::vector<std::string> import_script_sources();

}  // namespace gk

#pragma once

#include <string>

#include "common/redis/redis_router.h"
#include "common/rules/address.h"
#include "common/util/result.h"
#include "common/util/timestamp.h"

namespace gk {

// One change of an address suppression (PROTOCOL.md 11), applied atomically to its hash
// `<prefix>a:<CHANNEL>:<address>` by one script on one key, so it is one slot on a cluster.
struct AddressWrite {
  enum class Mode {
    kSet,          // last writer wins by `ts`
    kLiftSmsStop,  // an opt-in keyword: lifts only a current `sms_stop` (last writer wins)
    kSoftBounce,   // counts a soft bounce; the limit-th within the window suppresses (bounce)
  };
  std::string key;  // KeySchema::address()
  Mode mode = Mode::kSet;
  bool suppressed = true;
  AddressReason reason = AddressReason::kManual;
  EpochMs ts = 0;
  int soft_bounce_limit = 3;
  EpochMs soft_bounce_window_ms = 0;
};

struct AddressWriteResult {
  bool old_suppressed = false;
  bool applied = false;     // false: nothing to lift, below the soft limit, or an older change
  bool changed = false;     // applied, and the suppression or its reason differs from before
  bool suppressed = false;  // stored now
  std::string reason;       // stored now ("" when never suppressed)
  EpochMs ts = 0;           // stored now (0 when never set)
};

Result<AddressWriteResult> run_address_script(RedisRouter& redis, const AddressWrite& w);

// The stored state of one address; `found` false when there is no hash.
struct AddressState {
  bool found = false;
  bool suppressed = false;
  std::string reason;
  EpochMs ts = 0;
};
Result<AddressState> read_address(RedisRouter& redis, const std::string& key);

}  // namespace gk

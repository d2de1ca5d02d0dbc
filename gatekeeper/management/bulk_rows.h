#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/rules/channels.h"
#include "common/util/timestamp.h"

namespace gk {

// The bulk CSV of PROTOCOL.md 12: its header row, and one row checked and put in the form
// the store keeps (canonical field names, emails lower-cased, addresses in their stored
// form), so a bad row is refused here with a reason and never reaches Redis.
inline constexpr std::string_view kBulkHeader =
    "kind,businessUnit,key,field,value,timestamp,reason";

enum class BulkKind { kUser, kLead, kAddress };

struct BulkRow {
  BulkKind kind = BulkKind::kUser;
  std::string bu;      // "" for addresses
  std::string who;     // external id, normalised email, or the address in its stored form
  std::string field;   // a channel, "ALL", "BLACKLIST" or "topic:<name>"; addresses: the channel
  bool value = false;  // opted out / blacklisted / suppressed
  EpochMs ts = 0;
  std::string reason;  // addresses: bounce, complaint, sms_stop, manual ("" when not given)
};

// Parses one CSV line (no line break) into `row`; "" when it is good, else what is wrong.
// `scratch` holds the split fields (reused between calls).
std::string parse_bulk_row(std::string_view line, const ChannelRegistry& channels, BulkRow& row,
                           std::vector<std::string>& scratch);

}  // namespace gk

#pragma once

#include <cstddef>

#include "common/rules/address.h"
#include "common/rules/optout_record.h"
#include "common/rules/verdict.h"

namespace gk {

// Everything the rules look at for one candidate message; plain data, no I/O.
struct DecisionInput {
  bool channel_known = false;           // the channel (or alias) is configured here
  std::size_t channel_index = 0;        // its index in the ChannelRegistry
  bool require_address = true;          // the channel needs `to`
  bool has_address = false;             // `to` present and non-empty
  bool realtime_transactional = false;  // campaign type realtime and transactional
  // The merged status of every record the message names; nullptr when it could not be read.
  const OptOutRecord* status = nullptr;
  // Sections 11 and 13, known without a lookup: the person or the `to` address was erased,
  // and why `to` is a suppressed address on this channel (kNone: it is not). Neither is
  // lifted by the realtime-transactional exemption.
  bool erased = false;
  AddressReason address = AddressReason::kNone;
  // With no status: may a realtime transactional message go without a blacklist check?
  bool forward_transactional_without_status = false;
};

// The rules of PROTOCOL.md section 1, in order: an unknown channel is rejected; an erased
// person or address gets nothing (`erased`); a blacklisted person gets nothing; a suppressed
// `to` address gets nothing (`address:<reason>`); a channel or ALL opt-out suppresses unless the
// campaign is realtime and transactional; a missing required address is rejected. Without a status
// the message can only be forwarded when it is realtime transactional and policy allows it;
// otherwise the verdict is store_unavailable, which the caller turns into holding and retrying
// before it gives up. store_unavailable is "rejected": not the person's choice, so a sender
// may retry it.
Verdict decide(const DecisionInput& in) noexcept;

// The decision reason of a suppressed address.
Reason address_reason(AddressReason reason) noexcept;

}  // namespace gk

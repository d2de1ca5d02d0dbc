#include "common/rules/decide.h"

namespace gk {

Reason address_reason(AddressReason reason) noexcept {
  switch (reason) {
    case AddressReason::kBounce:
      return Reason::kAddressBounce;
    case AddressReason::kComplaint:
      return Reason::kAddressComplaint;
    case AddressReason::kSmsStop:
      return Reason::kAddressSmsStop;
    case AddressReason::kManual:
    case AddressReason::kNone:
      break;
  }
  return Reason::kAddressManual;
}

Verdict decide(const DecisionInput& in) noexcept {
  if (!in.channel_known) return {Action::kReject, Reason::kUnknownChannel};
  if (in.erased) return {Action::kSuppress, Reason::kErased};
  // The address verdict needs no status; with one, a blacklist still comes first.
  if (in.address != AddressReason::kNone && (in.status == nullptr || !in.status->blacklisted)) {
    return {Action::kSuppress, address_reason(in.address)};
  }
  if (in.status == nullptr) {
    if (!(in.realtime_transactional && in.forward_transactional_without_status)) {
      return {Action::kReject, Reason::kStoreUnavailable};
    }
  } else {
    const OptOutRecord& s = *in.status;
    if (s.blacklisted) return {Action::kSuppress, Reason::kBlacklisted};
    if (!in.realtime_transactional) {
      if (s.opted_out(in.channel_index)) return {Action::kSuppress, Reason::kOptOutChannel};
      if (s.all) return {Action::kSuppress, Reason::kOptOutAll};
    }
  }
  if (in.require_address && !in.has_address) return {Action::kReject, Reason::kNoAddress};
  return {Action::kForward, Reason::kNone};
}

}  // namespace gk

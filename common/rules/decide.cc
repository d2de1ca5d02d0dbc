#include "common/rules/decide.h"

namespace gk {

Reason address_reason(AddressReason reason) noexcept {
  switch (reason) {
    case AddressReason::kNone:
      return Reason::kNone;
    case AddressReason::kBounce:
      return Reason::kAddressBounce;
    case AddressReason::kComplaint:
      return Reason::kAddressComplaint;
    case AddressReason::kSmsStop:
      return Reason::kAddressSmsStop;
    case AddressReason::kManual:
      break;
  }
  return Reason::kAddressManual;
}

Verdict decide(const DecisionInput& in) noexcept {
  if (!in.channel_known) return {Action::kReject, Reason::kUnknownChannel};
  if (in.has_topic && !in.topic_known) return {Action::kReject, Reason::kUnknownTopic};
  if (in.erased) return {Action::kSuppress, Reason::kErased};
  // The blacklist comes before the address when it can be read; without a status the
  // address alone is enough to suppress.
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
      if (in.has_topic && in.topic_default != TopicDefault::kRequired) {
        if (s.left_topic(in.topic_index)) return {Action::kSuppress, Reason::kOptOutTopic};
        if (in.topic_default == TopicDefault::kUnsubscribed && !s.joined_topic(in.topic_index)) {
          return {Action::kSuppress, Reason::kNotSubscribedTopic};
        }
      }
    }
  }
  if (in.require_address && !in.has_address) return {Action::kReject, Reason::kNoAddress};
  return {Action::kForward, Reason::kNone};
}

}  // namespace gk

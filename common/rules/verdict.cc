#include "common/rules/verdict.h"

namespace gk {

std::string_view to_string(Action action) noexcept {
  switch (action) {
    case Action::kForward:
      return "forwarded";
    case Action::kSuppress:
      return "suppressed";
    case Action::kReject:
      return "rejected";
  }
  return "unknown";
}

std::string_view to_string(Reason reason) noexcept {
  switch (reason) {
    case Reason::kNone:
      return "";
    case Reason::kOptOutChannel:
      return "opt_out";
    case Reason::kOptOutAll:
      return "opt_out:ALL";
    case Reason::kBlacklisted:
      return "blacklisted";
    case Reason::kNoAddress:
      return "no_address";
    case Reason::kUnknownChannel:
      return "unknown_channel";
    case Reason::kMalformed:
      return "malformed";
    case Reason::kStoreUnavailable:
      return "store_unavailable";
    case Reason::kOptOutTopic:
      return "opt_out:topic";
    case Reason::kNotSubscribedTopic:
      return "not_subscribed:topic";
    case Reason::kUnknownTopic:
      return "unknown_topic";
    case Reason::kErased:
      return "erased";
    case Reason::kAddressBounce:
      return "address:bounce";
    case Reason::kAddressComplaint:
      return "address:complaint";
    case Reason::kAddressSmsStop:
      return "address:sms_stop";
    case Reason::kAddressManual:
      return "address:manual";
  }
  return "unknown";
}

}  // namespace gk

#pragma once

#include <cstddef>
#include <string_view>

namespace gk {

enum class Action { kForward, kSuppress, kReject };

// Stable reason codes (PROTOCOL.md section 4); the same strings label metrics and logs.
enum class Reason {
  kNone,
  kOptOutChannel,  // rendered "opt_out:<CHANNEL>"
  kOptOutAll,
  kBlacklisted,
  kNoAddress,
  kUnknownChannel,
  kMalformed,
  kStoreUnavailable,
  kOptOutTopic,         // rendered "opt_out:topic:<T>"
  kNotSubscribedTopic,  // rendered "not_subscribed:topic:<T>"
  kUnknownTopic,
  kErased,         // section 13: an identifier of the message was erased
  kAddressBounce,  // section 11: "address:<reason>" of a suppressed `to`
  kAddressComplaint,
  kAddressSmsStop,
  kAddressManual,
};
inline constexpr std::size_t kReasonCount = 16;

struct Verdict {
  Action action = Action::kForward;
  Reason reason = Reason::kNone;
  friend bool operator==(const Verdict&, const Verdict&) = default;
};

// Whether a reason is a person's own status (the message is suppressed) rather than a
// problem with the message or the store (it is rejected).
constexpr bool is_suppression(Reason reason) noexcept {
  return reason == Reason::kOptOutChannel || reason == Reason::kOptOutAll ||
         reason == Reason::kBlacklisted || reason == Reason::kOptOutTopic ||
         reason == Reason::kNotSubscribedTopic || reason == Reason::kErased ||
         reason == Reason::kAddressBounce || reason == Reason::kAddressComplaint ||
         reason == Reason::kAddressSmsStop || reason == Reason::kAddressManual;
}

// "suppressed" / "rejected" / "forwarded".
std::string_view to_string(Action action) noexcept;
// The reason code without the channel or topic part: "opt_out", "opt_out:ALL",
// "opt_out:topic", "blacklisted", ...
std::string_view to_string(Reason reason) noexcept;

}  // namespace gk

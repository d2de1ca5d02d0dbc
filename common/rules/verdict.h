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
  kErased,         // section 13: the person or address was erased
  kAddressBounce,  // section 11: "address:<reason>" of a suppressed `to`
  kAddressComplaint,
  kAddressSmsStop,
  kAddressManual,
};
inline constexpr std::size_t kReasonCount = 13;

struct Verdict {
  Action action = Action::kForward;
  Reason reason = Reason::kNone;
  friend bool operator==(const Verdict&, const Verdict&) = default;
};

// "suppressed" / "rejected" / "forwarded".
std::string_view to_string(Action action) noexcept;
// The reason code without the channel part: "opt_out", "opt_out:ALL", "blacklisted", ...
std::string_view to_string(Reason reason) noexcept;

}  // namespace gk

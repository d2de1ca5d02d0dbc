#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gk {

// Why an address is suppressed (PROTOCOL.md 11): the stored `reason` and the decision's
// `address:<reason>`.
enum class AddressReason { kNone, kBounce, kComplaint, kSmsStop, kManual };

std::string_view to_string(AddressReason reason) noexcept;
std::optional<AddressReason> parse_address_reason(std::string_view text) noexcept;

// How a channel's addresses are compared: e-mail addresses (MAIL) trimmed and lower-cased,
// phone numbers (SMS) as `+` and digits, anything else (device tokens, URLs) only trimmed.
enum class AddressKind { kEmail, kPhone, kOther };
// `channel` is a canonical channel name.
AddressKind address_kind(std::string_view channel) noexcept;

// The stored form of `raw` on `channel` into `out` (cleared first). False when the address
// is not acceptable: empty; an e-mail without '@' or with whitespace inside; a phone number
// with other characters than digits, one leading '+', spaces, dashes, dots and brackets.
// Allocates nothing once `out` has grown: the message loop calls it per message.
bool normalize_address(std::string_view channel, std::string_view raw, std::string& out);
// What is wrong with `raw` on `channel`, for an API answer; empty when it is fine.
std::string address_problem(std::string_view channel, std::string_view raw);

// What an inbound SMS body means: exactly one keyword, trimmed, compared case-insensitively.
enum class SmsKeyword { kNone, kOptOut, kOptIn };
SmsKeyword match_sms_keyword(std::string_view body, const std::vector<std::string>& opt_out,
                             const std::vector<std::string>& opt_in) noexcept;

}  // namespace gk

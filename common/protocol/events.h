#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/rules/channels.h"
#include "common/util/timestamp.h"

namespace gk {

// The error types of the platform's public API, as `type` of an error body.
enum class ErrorType { kInvalidFormat, kInvalidValue, kUnknownValue, kMissingValue };
std::string_view to_string(ErrorType type) noexcept;

// One problem with a body or an event: which key, what kind of problem, in words.
struct FieldError {
  std::string field;
  ErrorType type = ErrorType::kInvalidValue;
  std::string message;
};

// The event names with a meaning here; every other name is republished unchanged.
enum class EventKind {
  kOptOut,
  kOptIn,
  kMailUnsubscribe,
  kBlacklisted,
  kWhitelisted,
  kMailBounce,  // section 11: events about an address rather than a person
  kMailComplaint,
  kSmsInbound,
  kOther
};

// Events about an address (PROTOCOL.md 11): a body of only these may name no person.
bool address_event(EventKind kind) noexcept;

// Who a body is about: a full user (external id), a lead (email), or both (which links them).
struct Identity {
  std::string external_id;
  std::string email;  // normalised (common/identity.h): trimmed, lower-cased
  std::string bu;     // "" when absent
};

// One event of a body, validated. A rejected event keeps what could be read, for the result.
struct Event {
  std::string name;  // canonical spelling for the known kinds, else as received
  EventKind kind = EventKind::kOther;
  std::string channel;  // canonical channel type or "ALL"; empty when the event has none
  std::string topic;    // Opt Out / Opt In: the topic as configured; empty when none
  std::optional<EpochMs> timestamp;
  nlohmann::json properties = nlohmann::json::object();
  std::optional<FieldError> error;  // set: this event is rejected and changes nothing

  bool accepted() const noexcept { return !error.has_value(); }
};

struct EventBody {
  Identity identity;
  std::vector<Event> events;
};

// A parsed body, or the body-level problem that stops all of it.
struct EventBodyResult {
  EventBody body;
  std::optional<FieldError> error;
  bool ok() const noexcept { return !error.has_value(); }
};

// Parses an event body (PROTOCOL.md 5): JSON when the first non-space byte is `{`, else
// msgpack; both become the same JSON value, so one validation serves both. Body-level
// problems (undecodable, not an object, `events` missing / not a list / empty / longer than
// `max_events`, no identity, an identity breaking common/identity.h as INVALID_VALUE of
// `businessUnit`, `id` or `email`) fill `error`; error texts never quote the body's bytes
// where they could be personal data (a JSON syntax error names its kind and byte position,
// not what was read). Problems of one event (no name, unknown
// `channel.type`, bad `timestamp` or `properties`) only reject that event. Never throws.
EventBodyResult parse_event_body(std::string_view bytes, const ChannelRegistry& channels,
                                 std::size_t max_events);

// The status an accepted event sets, if it sets one.
struct StatusChange {
  std::string field;  // canonical channel type, "ALL", "BLACKLIST" or "topic:<name>"
  bool value = false;
};
std::optional<StatusChange> status_change(const Event& event, const ChannelRegistry& channels);

// `source` of the system events an event causes: "esp" for ESP feedback, else "event".
std::string_view event_source(const Event& event) noexcept;

// Canonical names of the known event kinds.
inline constexpr std::string_view kOptOutEvent = "Opt Out";
inline constexpr std::string_view kOptInEvent = "Opt In";
inline constexpr std::string_view kMailUnsubscribeEvent = "mail.unsubscribe";
inline constexpr std::string_view kBlacklistedEvent = "Blacklisted";
inline constexpr std::string_view kWhitelistedEvent = "Whitelisted";
inline constexpr std::string_view kMailBounceEvent = "mail.bounce";
inline constexpr std::string_view kMailComplaintEvent = "mail.complaint";
inline constexpr std::string_view kSmsInboundEvent = "sms.inbound";
inline constexpr std::string_view kAddressSuppressedEvent = "Address Suppressed";
inline constexpr std::string_view kAddressUnsuppressedEvent = "Address Unsuppressed";

// The address an address event is about, as received: `properties.address`, else
// `properties.from` (sms.inbound) or the body's `email` (mail events). Empty when none.
std::string event_address(const Event& event, const Identity& who);

}  // namespace gk

#include "common/protocol/events.h"

#include <algorithm>

#include "common/protocol/event_body_decode.h"
#include "common/rules/identity.h"

namespace gk {

namespace {

using nlohmann::json;

// 9999-12-31T23:59:59.999Z: a larger integer is a unit mistake (µs, ns), not a date.
constexpr EpochMs kMaxTimestampMs = 253402300799999;

FieldError error(std::string field, ErrorType type, std::string message) {
  return FieldError{std::move(field), type, std::move(message)};
}

// A key that is absent or null is "not given"; any other value must be a non-empty string.
std::optional<FieldError> optional_string(const json& obj, const char* key, std::string& out) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    return error(key, ErrorType::kInvalidValue, std::string(key) + " must be a string");
  }
  out = it->get<std::string>();
  return std::nullopt;
}

// The rules of common/identity.h; an email is kept normalised, so keys, links and the
// system events all carry the one spelling.
std::optional<FieldError> parse_identity(const json& body, Identity& id) {
  if (auto e = optional_string(body, "id", id.external_id)) return e;
  if (auto e = optional_string(body, "email", id.email)) return e;
  if (auto e = optional_string(body, "businessUnit", id.bu)) return e;
  // An empty string counts as absent, as it always has; whitespace alone is a broken email.
  const bool email_given = !id.email.empty();
  if (id.external_id.empty() && !email_given) {
    return error("id", ErrorType::kMissingValue,
                 "body names no person: give id (external id) or email");
  }
  if (auto e = business_unit_error("businessUnit", id.bu); !e.empty()) {
    return error("businessUnit", ErrorType::kInvalidValue, std::move(e));
  }
  if (!id.external_id.empty()) {
    if (auto e = external_id_error("id", id.external_id); !e.empty()) {
      return error("id", ErrorType::kInvalidValue, std::move(e));
    }
  }
  if (email_given) {
    if (auto e = email_error("email", id.email); !e.empty()) {
      return error("email", ErrorType::kInvalidValue, std::move(e));
    }
    id.email = normalize_email(id.email);
  }
  return std::nullopt;
}

EventKind kind_of(std::string_view name) noexcept {
  if (iequals(name, kOptOutEvent)) return EventKind::kOptOut;
  if (iequals(name, kOptInEvent)) return EventKind::kOptIn;
  if (iequals(name, kMailUnsubscribeEvent)) return EventKind::kMailUnsubscribe;
  if (iequals(name, kBlacklistedEvent)) return EventKind::kBlacklisted;
  if (iequals(name, kWhitelistedEvent)) return EventKind::kWhitelisted;
  if (iequals(name, kMailBounceEvent)) return EventKind::kMailBounce;
  if (iequals(name, kMailComplaintEvent)) return EventKind::kMailComplaint;
  if (iequals(name, kSmsInboundEvent)) return EventKind::kSmsInbound;
  return EventKind::kOther;
}

std::string_view canonical_name(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::kOptOut:
      return kOptOutEvent;
    case EventKind::kOptIn:
      return kOptInEvent;
    case EventKind::kMailUnsubscribe:
      return kMailUnsubscribeEvent;
    case EventKind::kBlacklisted:
      return kBlacklistedEvent;
    case EventKind::kWhitelisted:
      return kWhitelistedEvent;
    case EventKind::kMailBounce:
      return kMailBounceEvent;
    case EventKind::kMailComplaint:
      return kMailComplaintEvent;
    case EventKind::kSmsInbound:
      return kSmsInboundEvent;
    case EventKind::kOther:
      break;
  }
  return {};
}

// The platform writes `"channel.type": "MAIL"` (a dotted key); `"channel": {"type": ...}`
// is read too, since JSON tools that expand dotted paths produce it.
const json* find_channel(const json& event) {
  if (const auto it = event.find("channel.type"); it != event.end() && !it->is_null()) {
    return &*it;
  }
  if (const auto it = event.find("channel"); it != event.end() && it->is_object()) {
    if (const auto t = it->find("type"); t != it->end() && !t->is_null()) return &*t;
  }
  return nullptr;
}

std::optional<FieldError> parse_channel(const json& event, const ChannelRegistry& channels,
                                        std::string& out) {
  const json* value = find_channel(event);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    return error("channel.type", ErrorType::kInvalidValue, "channel.type must be a string");
  }
  const auto& name = value->get_ref<const std::string&>();
  if (iequals(name, kAllChannel)) {
    out = std::string(kAllChannel);
  } else if (const auto index = channels.find_type(name)) {
    out = channels.name(*index);
  } else if (name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
               return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.';
             })) {
    // A plausible channel name is quoted to help; anything else is not echoed, as the
    // text also reaches the logs.
    return error("channel.type", ErrorType::kUnknownValue, "unknown channel.type '" + name + "'");
  } else {
    return error("channel.type", ErrorType::kUnknownValue,
                 "unknown channel.type (not a channel name)");
  }
  return std::nullopt;
}

std::optional<FieldError> parse_timestamp(const json& event, std::optional<EpochMs>& out) {
  const auto it = event.find("timestamp");
  if (it == event.end() || it->is_null()) return std::nullopt;
  // A number of the right type but out of range gets its own message: "must be ms since
  // the epoch" would not tell a sender that sent seconds * 10^6 what is wrong.
  constexpr std::string_view kRange =
      "timestamp in ms since the epoch must be 0..253402300799999 (9999-12-31T23:59:59.999Z)";
  if (it->is_string()) {
    out = parse_iso8601(it->get_ref<const std::string&>());
  } else if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(kMaxTimestampMs)) {
      return error("timestamp", ErrorType::kInvalidValue, std::string(kRange));
    }
    out = static_cast<EpochMs>(v);
  } else if (it->is_number_integer()) {
    const auto v = it->get<std::int64_t>();
    if (v < 0 || v > kMaxTimestampMs) {
      return error("timestamp", ErrorType::kInvalidValue, std::string(kRange));
    }
    out = v;
  }
  if (out) return std::nullopt;
  return error("timestamp", ErrorType::kInvalidValue,
               "timestamp must be ISO-8601 with a zone (2026-11-26T10:15:00.123Z) between 1970 "
               "and 9999-12-31T23:59:59.999Z, or ms since the epoch");
}

// `topic` of an Opt Out / Opt In (PROTOCOL.md 9): a configured topic, and never together
// with a channel, since one event changes one status.
std::optional<FieldError> parse_topic(const json& event, const ChannelRegistry& channels,
                                      Event& ev) {
  const auto it = event.find("topic");
  if (it == event.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return error("topic", ErrorType::kInvalidValue, "topic must be a string");
  const auto& name = it->get_ref<const std::string&>();
  const auto index = channels.topics().find(name);
  if (!index) return error("topic", ErrorType::kUnknownValue, "unknown topic '" + name + "'");
  if (!ev.channel.empty()) {
    return error("topic", ErrorType::kInvalidValue,
                 "an event names either channel.type or topic, not both");
  }
  const auto& topic = channels.topics().at(*index);
  if (ev.kind == EventKind::kOptOut && topic.policy == TopicDefault::kRequired) {
    return error("topic", ErrorType::kInvalidValue,
                 "topic '" + topic.name + "' is required: nobody can leave it");
  }
  ev.topic = topic.name;
  return std::nullopt;
}

Event parse_event(const json& value, const ChannelRegistry& channels) {
  Event ev;
  if (!value.is_object()) {
    ev.error = error("events", ErrorType::kInvalidValue, "an event must be an object");
    return ev;
  }
  const auto name = value.find("event");
  if (name == value.end() || name->is_null()) {
    ev.error = error("event", ErrorType::kMissingValue, "event name is missing");
    return ev;
  }
  if (!name->is_string() || name->get_ref<const std::string&>().empty()) {
    ev.error = error("event", ErrorType::kInvalidValue, "event must be a non-empty string");
    return ev;
  }
  ev.name = name->get<std::string>();
  ev.kind = kind_of(ev.name);
  if (ev.kind != EventKind::kOther) ev.name = std::string(canonical_name(ev.kind));
  if (auto e = parse_channel(value, channels, ev.channel)) {
    ev.error = std::move(e);
    return ev;
  }
  if (ev.kind == EventKind::kOptOut || ev.kind == EventKind::kOptIn) {
    if (auto e = parse_topic(value, channels, ev)) {
      ev.error = std::move(e);
      return ev;
    }
  }
  if (auto e = parse_timestamp(value, ev.timestamp)) {
    ev.error = std::move(e);
    return ev;
  }
  if (const auto props = value.find("properties"); props != value.end() && !props->is_null()) {
    if (!props->is_object()) {
      ev.error = error("properties", ErrorType::kInvalidValue, "properties must be an object");
      return ev;
    }
    ev.properties = *props;
  }
  return ev;
}

// Rejects an address event that lacks what it needs: an address, a bounce type, an SMS body.
void check_address_event(Event& ev, const Identity& who) {
  if (!ev.accepted() || !address_event(ev.kind)) return;
  const bool sms = ev.kind == EventKind::kSmsInbound;
  if (event_address(ev, who).empty()) {
    ev.error = error(sms ? "properties.from" : "properties.address", ErrorType::kMissingValue,
                     ev.name + (sms ? " needs properties.from (the sender's number)"
                                    : " needs properties.address or the body's email"));
    return;
  }
  const json& p = ev.properties;
  if (ev.kind == EventKind::kMailBounce) {
    const auto type = p.find("type");
    if (type == p.end() || !type->is_string() ||
        (type->get_ref<const std::string&>() != "hard" &&
         type->get_ref<const std::string&>() != "soft")) {
      ev.error = error("properties.type", ErrorType::kInvalidValue,
                       "mail.bounce needs properties.type \"hard\" or \"soft\"");
    }
  } else if (sms) {
    const auto body = p.find("body");
    if (body == p.end() || !body->is_string()) {
      ev.error = error("properties.body", ErrorType::kMissingValue,
                       "sms.inbound needs properties.body (a string)");
    }
  }
}

}  // namespace

std::string_view to_string(ErrorType type) noexcept {
  switch (type) {
    case ErrorType::kInvalidFormat:
      return "INVALID_FORMAT";
    case ErrorType::kInvalidValue:
      return "INVALID_VALUE";
    case ErrorType::kUnknownValue:
      return "UNKNOWN_VALUE";
    case ErrorType::kMissingValue:
      return "MISSING_VALUE";
  }
  return "INVALID_VALUE";
}

EventBodyResult parse_event_body(std::string_view bytes, const ChannelRegistry& channels,
                                 std::size_t max_events) {
  EventBodyResult result;
  FieldError err;
  std::optional<json> body = decode_event_body(bytes, err);
  if (!body) {
    result.error = std::move(err);
    return result;
  }
  if (!body->is_object()) {
    result.error = error("body", ErrorType::kInvalidValue, "body must be an object");
    return result;
  }
  const auto events = body->find("events");
  if (events == body->end() || events->is_null()) {
    result.error = error("events", ErrorType::kMissingValue, "events is missing");
    return result;
  }
  if (!events->is_array()) {
    result.error = error("events", ErrorType::kInvalidValue, "events must be a list");
    return result;
  }
  if (events->empty()) {
    result.error = error("events", ErrorType::kInvalidValue, "events must not be empty");
    return result;
  }
  if (events->size() > max_events) {
    result.error = error("events", ErrorType::kInvalidValue,
                         "at most " + std::to_string(max_events) + " events per body, got " +
                             std::to_string(events->size()));
    return result;
  }
  result.body.events.reserve(events->size());
  for (const json& e : *events) result.body.events.push_back(parse_event(e, channels));
  if (auto e = parse_identity(*body, result.body.identity)) {
    // Address events name an address, not a person: a body of only those needs no one.
    const bool only_addresses =
        e->type == ErrorType::kMissingValue &&
        std::all_of(result.body.events.begin(), result.body.events.end(),
                    [](const Event& ev) { return ev.accepted() && address_event(ev.kind); });
    if (!only_addresses) {
      result.body.events.clear();
      result.error = std::move(e);
      return result;
    }
  }
  for (Event& ev : result.body.events) check_address_event(ev, result.body.identity);
  return result;
}

bool address_event(EventKind kind) noexcept {
  return kind == EventKind::kMailBounce || kind == EventKind::kMailComplaint ||
         kind == EventKind::kSmsInbound;
}

std::string event_address(const Event& event, const Identity& who) {
  const json& p = event.properties;
  if (p.is_object()) {
    if (const auto a = p.find("address"); a != p.end() && a->is_string()) {
      return a->get<std::string>();
    }
    if (event.kind == EventKind::kSmsInbound) {
      if (const auto from = p.find("from"); from != p.end() && from->is_string()) {
        return from->get<std::string>();
      }
    }
  }
  return event.kind == EventKind::kSmsInbound ? std::string() : who.email;
}

std::optional<StatusChange> status_change(const Event& event, const ChannelRegistry& channels) {
  if (!event.accepted()) return std::nullopt;
  switch (event.kind) {
    case EventKind::kOptOut:
    case EventKind::kOptIn:
      if (!event.topic.empty()) {
        return StatusChange{std::string(kTopicFieldPrefix) + event.topic,
                            event.kind == EventKind::kOptOut};
      }
      // Without a channel the platform treats them as ordinary events.
      if (event.channel.empty()) return std::nullopt;
      return StatusChange{event.channel, event.kind == EventKind::kOptOut};
    case EventKind::kMailUnsubscribe: {
      const auto mail = channels.find_type("MAIL");
      return StatusChange{mail ? channels.name(*mail) : std::string("MAIL"), true};
    }
    case EventKind::kBlacklisted:
      return StatusChange{std::string(kBlacklistField), true};
    case EventKind::kWhitelisted:
      return StatusChange{std::string(kBlacklistField), false};
    case EventKind::kMailBounce:
    case EventKind::kMailComplaint:
    case EventKind::kSmsInbound:
    case EventKind::kOther:
      break;
  }
  return std::nullopt;
}

std::string_view event_source(const Event& event) noexcept {
  return event.kind == EventKind::kMailUnsubscribe || address_event(event.kind) ? "esp" : "event";
}

}  // namespace gk

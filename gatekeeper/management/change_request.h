#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/store/status_script.h"
#include "common/util/timestamp.h"

namespace gk {

// One way a status changes, whichever door it came through (PUT/DELETE on the API, an event
// on the socket or POST /events, ESP feedback, a one-click link, the preference page, the
// topic routes): StatusService::apply stores it and publishes its system event, so every door
// stores and reports a change the same way.
struct ChangeRequest {
  // Who: an external id, an email, or both (then they are linked).
  std::string bu;
  std::string external_id;
  std::string email;
  // What: a canonical channel, "ALL", "BLACKLIST" or "topic:<name>". Empty: nothing is
  // stored, the event is only published (an accepted event that changes no status).
  std::string field;
  bool value = false;
  EpochMs ts = 0;        // when it happened; past now + changes.max_future_ms: `received`
  EpochMs received = 0;  // when the gatekeeper took it
  std::string source;    // history and system event: "api", "event", "esp", "one_click", ...
  std::string event;     // the name recorded in the history and published
  nlohmann::json properties = nlohmann::json::object();
  // The system event's `channel.type` and `topic`; empty ones are omitted.
  std::string channel;
  std::string topic;
  // A second system event with the same content under this name, when not empty: ESP
  // feedback (`mail.unsubscribe`) is also a platform `Opt Out`.
  std::string also_published;
  // The email was already refused a link (by the body's link write): reported either way.
  bool link_refused = false;
};

// A change made now by a person or an operator (the API, a link, the preference page): dated
// and received now, without properties, and scoped in its system event by the field (a
// topic field names the topic, BLACKLIST nothing, anything else the channel).
ChangeRequest change_now(std::string bu, std::string external_id, std::string email,
                         std::string field, bool value, std::string_view source,
                         std::string_view event);

// What apply did: the write (all false when nothing was stored), the time stored and
// published, what the system event reported, and whether it was refused as erased.
struct AppliedChange {
  StatusWriteResult write;
  EpochMs ts = 0;
  bool timestamp_clamped = false;
  bool link_refused = false;
  // It named an erased person and was not an explicit Opt In: nothing stored, nothing
  // published (PROTOCOL.md 13: no identifier of theirs goes back into Redis).
  bool erased = false;
};

// How hard to try when the store fails: the HTTP API answers 503 at once and lets the
// client retry; the events socket has no one to answer, so it retries with backoff.
struct RetryPolicy {
  int attempts = 1;
  std::chrono::milliseconds initial_backoff{0};
  std::chrono::milliseconds max_backoff{0};
  const std::atomic<bool>* stop = nullptr;  // set: give up waiting at shutdown
};

}  // namespace gk

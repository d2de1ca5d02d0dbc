#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/util/timestamp.h"

namespace gk {

// One system event (PROTOCOL.md 6): an accepted event or an API change, as the platform
// hears about it on the PUB socket and in the `<prefix>events` stream.
struct SystemEvent {
  std::string event;  // "Opt Out", "Opt In", "mail.unsubscribe", or the event's own name
  std::string id;     // external id; omitted when empty
  std::string email;  // omitted when empty
  std::string bu;
  std::string channel;  // `channel.type`; omitted when empty
  std::string topic;    // `topic` (PROTOCOL.md 9); omitted when empty
  // Address events (PROTOCOL.md 11): `address` in its stored form and `reason`; omitted
  // when empty.
  std::string address;
  std::string reason;
  EpochMs timestamp = 0;
  std::string source;  // "api", "event" or "esp"
  bool changed = false;
  nlohmann::json properties = nlohmann::json::object();
  // Written only when true (`timestampClamped`, `linkRefused`): the event's time was past the
  // bound and `timestamp` is the time of receipt; the email was not linked to the user.
  bool timestamp_clamped = false;
  bool link_refused = false;
};

// The JSON-shaped map: the keys above with `channel.type` and `businessUnit` spelled as the
// platform does and `timestamp` as ISO-8601 UTC with milliseconds.
nlohmann::json to_json(const SystemEvent& event);
// The PUB socket's second frame: that map in msgpack.
std::string to_msgpack(const SystemEvent& event);
// The stream entry: one field per key, `properties` as JSON text, bools "true" / "false",
// so `XRANGE` in redis-cli reads like the event.
std::vector<std::pair<std::string, std::string>> stream_fields(const SystemEvent& event);

// JSON text that never throws: bytes that are not UTF-8 (msgpack strings are not checked)
// become U+FFFD instead of failing the whole event.
std::string safe_dump(const nlohmann::json& value);

}  // namespace gk

#include "common/protocol/system_event.h"

namespace gk {

std::string safe_dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json to_json(const SystemEvent& e) {
  nlohmann::json j = nlohmann::json::object();
  j["event"] = e.event;
  if (!e.id.empty()) j["id"] = e.id;
  if (!e.email.empty()) j["email"] = e.email;
  j["businessUnit"] = e.bu;
  if (!e.channel.empty()) j["channel.type"] = e.channel;
  if (!e.topic.empty()) j["topic"] = e.topic;
  if (!e.address.empty()) j["address"] = e.address;
  if (!e.reason.empty()) j["reason"] = e.reason;
  j["timestamp"] = format_iso8601(e.timestamp);
  j["source"] = e.source;
  j["changed"] = e.changed;
  j["properties"] = e.properties.is_object() ? e.properties : nlohmann::json::object();
  if (e.timestamp_clamped) j["timestampClamped"] = true;
  if (e.link_refused) j["linkRefused"] = true;
  return j;
}

std::string to_msgpack(const SystemEvent& e) {
  std::string out;
  nlohmann::json::to_msgpack(to_json(e), out);
  return out;
}

std::vector<std::pair<std::string, std::string>> stream_fields(const SystemEvent& e) {
  std::vector<std::pair<std::string, std::string>> f;
  f.reserve(12);
  f.emplace_back("event", e.event);
  if (!e.id.empty()) f.emplace_back("id", e.id);
  if (!e.email.empty()) f.emplace_back("email", e.email);
  f.emplace_back("businessUnit", e.bu);
  if (!e.channel.empty()) f.emplace_back("channel.type", e.channel);
  if (!e.topic.empty()) f.emplace_back("topic", e.topic);
  if (!e.address.empty()) f.emplace_back("address", e.address);
  if (!e.reason.empty()) f.emplace_back("reason", e.reason);
  f.emplace_back("timestamp", format_iso8601(e.timestamp));
  f.emplace_back("source", e.source);
  f.emplace_back("changed", e.changed ? "true" : "false");
  f.emplace_back("properties",
                 safe_dump(e.properties.is_object() ? e.properties : nlohmann::json::object()));
  if (e.timestamp_clamped) f.emplace_back("timestampClamped", "true");
  if (e.link_refused) f.emplace_back("linkRefused", "true");
  return f;
}

}  // namespace gk

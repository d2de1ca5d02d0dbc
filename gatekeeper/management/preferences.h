#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/rules/channels.h"
#include "gatekeeper/management/status_service.h"

namespace gk {

// A person's standing in one topic, from the stored hash (PROTOCOL.md 9). `subscribed` is the
// topic's own answer (required: yes; stored 1: no; stored 0: yes; nothing stored: the
// default); ALL, the channels and the blacklist are reported beside it, not folded in.
struct TopicState {
  const TopicRegistry::Topic* topic = nullptr;
  bool subscribed = true;
  bool explicit_value = false;  // a value is stored
};
TopicState topic_state(const TopicRegistry::Topic& topic, const StatusService::Fields& fields);
// {"topic", "subscribed", "explicit", "default"}
nlohmann::json topic_json(const TopicState& state);

// {"blacklisted", "channels": {C: {"optOut", "effective"}}, "topics": {T: topic_json}} over
// every configured (routable) channel and every topic.
nlohmann::json preferences_json(const ChannelRegistry& channels,
                                const StatusService::Fields& fields);

bool stored_flag(const StatusService::Fields& fields, std::string_view field);

}  // namespace gk

#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/rules/channels.h"
#include "common/store/status_script.h"
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

// Who a change is for, as a message header or a link names them.
struct Person {
  std::string bu;
  std::string external_id;
  std::string email;
};

// One status change by the API, a link or the preference page: written (last writer wins by
// `now`), recorded in the history with `source`, published as a system event (`Opt Out` when
// `value` is true, else `Opt In`; `topic` set for a topic field). nullopt when the store
// failed, with `error`.
std::optional<StatusWriteResult> change_status(StatusService& status, const Person& who,
                                               const std::string& field, bool value,
                                               std::string_view source, std::string& error);

}  // namespace gk

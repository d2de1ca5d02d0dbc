#include "gatekeeper/management/preferences.h"

#include "common/rules/optout_record.h"

namespace gk {

bool stored_flag(const StatusService::Fields& fields, std::string_view field) {
  const auto it = fields.find(std::string(field));
  return it != fields.end() && status_value_true(it->second);
}

TopicState topic_state(const TopicRegistry::Topic& topic, const StatusService::Fields& fields) {
  TopicState s;
  s.topic = &topic;
  const auto it = fields.find(std::string(kTopicFieldPrefix) + topic.name);
  s.explicit_value = it != fields.end();
  if (topic.policy == TopicDefault::kRequired) {
    s.subscribed = true;
  } else if (s.explicit_value) {
    s.subscribed = !status_value_true(it->second);
  } else {
    s.subscribed = topic.policy == TopicDefault::kSubscribed;
  }
  return s;
}

nlohmann::json topic_json(const TopicState& s) {
  return {{"topic", s.topic->name},
          {"subscribed", s.subscribed},
          {"explicit", s.explicit_value},
          {"default", std::string(to_string(s.topic->policy))}};
}

nlohmann::json preferences_json(const ChannelRegistry& channels,
                                const StatusService::Fields& fields) {
  const bool blacklisted = stored_flag(fields, kBlacklistField);
  const bool all = stored_flag(fields, kAllChannel);
  nlohmann::json by_channel = nlohmann::json::object();
  for (std::size_t i = 0; i < channels.routable_count(); ++i) {
    const bool out = stored_flag(fields, channels.name(i));
    by_channel[channels.name(i)] = {{"optOut", out}, {"effective", out || all || blacklisted}};
  }
  nlohmann::json by_topic = nlohmann::json::object();
  const TopicRegistry& topics = channels.topics();
  for (std::size_t i = 0; i < topics.size(); ++i) {
    nlohmann::json t = topic_json(topic_state(topics.at(i), fields));
    t.erase("topic");
    by_topic[topics.at(i).name] = std::move(t);
  }
  return {{"blacklisted", blacklisted},
          {"optOutAll", all},
          {"channels", std::move(by_channel)},
          {"topics", std::move(by_topic)}};
}

}  // namespace gk

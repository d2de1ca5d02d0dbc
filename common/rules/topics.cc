#include "common/rules/topics.h"

#include "common/rules/channels.h"

namespace gk {

std::string_view to_string(TopicDefault policy) noexcept {
  switch (policy) {
    case TopicDefault::kSubscribed:
      return "subscribed";
    case TopicDefault::kUnsubscribed:
      return "unsubscribed";
    case TopicDefault::kRequired:
      return "required";
  }
  return "subscribed";
}

std::optional<TopicDefault> parse_topic_default(std::string_view text) noexcept {
  if (text == "subscribed") return TopicDefault::kSubscribed;
  if (text == "unsubscribed") return TopicDefault::kUnsubscribed;
  if (text == "required") return TopicDefault::kRequired;
  return std::nullopt;
}

std::optional<std::size_t> TopicRegistry::find(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < topics_.size(); ++i) {
    if (iequals(topics_[i].name, name)) return i;
  }
  return std::nullopt;
}

std::string TopicRegistry::field(std::size_t index) const {
  return std::string(kTopicFieldPrefix) + topics_[index].name;
}

}  // namespace gk

#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gk {

// What a topic does for a person who never chose (PROTOCOL.md 9).
enum class TopicDefault {
  kSubscribed,    // opt-out topic: everyone gets it until they leave
  kUnsubscribed,  // opt-in topic: only people who joined get it
  kRequired,      // nobody can leave it (legal notices)
};
// "subscribed" / "unsubscribed" / "required", as written in the config.
std::string_view to_string(TopicDefault policy) noexcept;
std::optional<TopicDefault> parse_topic_default(std::string_view text) noexcept;

// One bit per topic in an OptOutRecord.
inline constexpr std::size_t kMaxTopics = 64;
// Stored field of a topic: "topic:<name>" (name as configured), with "topic:<name>:ts".
inline constexpr std::string_view kTopicFieldPrefix = "topic:";

// `[topics.<name>]` as configured.
struct TopicConfig {
  std::string name;  // as written in the config
  TopicDefault policy = TopicDefault::kSubscribed;
  std::vector<std::string> channels;  // channel names it may go on; empty = every channel
  friend bool operator==(const TopicConfig&, const TopicConfig&) = default;
};

// The configured topics, looked up case-insensitively without allocating. Built by the
// ChannelRegistry, which resolves each topic's channel list to a mask of channel types.
class TopicRegistry {
 public:
  struct Topic {
    std::string name;
    TopicDefault policy = TopicDefault::kSubscribed;
    std::uint64_t channel_mask = 0;  // bit i: allowed on channel type i; 0 = every channel
  };

  TopicRegistry() = default;
  explicit TopicRegistry(std::vector<Topic> topics) : topics_(std::move(topics)) {}

  std::optional<std::size_t> find(std::string_view name) const noexcept;
  std::size_t size() const noexcept { return topics_.size(); }
  const Topic& at(std::size_t index) const { return topics_[index]; }
  bool allowed_on(std::size_t topic, std::size_t channel_index) const noexcept {
    const std::uint64_t mask = topics_[topic].channel_mask;
    return mask == 0 || ((mask >> channel_index) & 1U) != 0;
  }
  // "topic:<name>" for the stored field.
  std::string field(std::size_t index) const;

 private:
  std::vector<Topic> topics_;
};

}  // namespace gk

#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/rules/channel_config.h"
#include "common/rules/topics.h"

namespace gk {

// The status field that opts a person out of every channel.
inline constexpr std::string_view kAllChannel = "ALL";
// The status field that marks a person blacklisted.
inline constexpr std::string_view kBlacklistField = "BLACKLIST";

// The platform's channel types: statuses may be kept for them even when no adapter is
// configured here, so an opt-out for PUSH_NOTIFICATION is accepted by a MAIL-only sidecar.
inline constexpr std::string_view kPlatformChannelTypes[] = {
    "MAIL",           "SMS",    "PUSH_NOTIFICATION", "BROWSER_NOTIFICATION", "DIRECT_MAIL",
    "ONSITE_DISPLAY", "WEBHOOK"};

// The most channel types a registry holds; each has one bit in an OptOutRecord.
inline constexpr std::size_t kMaxChannelTypes = 64;

// ASCII case-insensitive equality; channel names are ASCII by the platform's rules.
bool iequals(std::string_view a, std::string_view b) noexcept;
std::string to_upper(std::string_view s);

// Channels and their aliases. Configured channels come first (index = position in the
// config) and can carry messages; platform types without an adapter follow and only carry
// statuses. Lookups are case-insensitive and allocate nothing.
class ChannelRegistry {
 public:
  // `topics` are resolved here (their channel lists become masks of channel types), so the
  // one registry the status reader and the rules already hold also knows the topics.
  explicit ChannelRegistry(const std::vector<ChannelConfig>& configured,
                           const std::vector<TopicConfig>& topics = {});

  // Index of the configured (routable) channel that `name` or one of its aliases names.
  std::optional<std::size_t> find_routable(std::string_view name) const noexcept;
  // Index of any known channel type (routable or platform), aliases included; not ALL.
  std::optional<std::size_t> find_type(std::string_view name) const noexcept;

  std::size_t routable_count() const noexcept { return routable_; }
  std::size_t type_count() const noexcept { return types_.size(); }
  const std::string& name(std::size_t index) const { return types_[index].name; }
  const ChannelConfig& config(std::size_t routable_index) const { return configs_[routable_index]; }
  const TopicRegistry& topics() const noexcept { return topics_; }

 private:
  struct Type {
    std::string name;
    std::vector<std::string> aliases;
  };
  std::vector<ChannelConfig> configs_;
  std::vector<Type> types_;
  std::size_t routable_ = 0;
  TopicRegistry topics_;
};

}  // namespace gk

#include "common/rules/channels.h"

#include <algorithm>

namespace gk {

namespace {
char upper(char c) noexcept {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
}
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper(b[i])) return false;
  }
  return true;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), upper);
  return out;
}

ChannelRegistry::ChannelRegistry(const std::vector<ChannelConfig>& configured,
                                 const std::vector<TopicConfig>& topics)
    : configs_(configured) {
  for (const auto& c : configured) {
    Type t{to_upper(c.name), {}};
    for (const auto& a : c.aliases) t.aliases.push_back(to_upper(a));
    types_.push_back(std::move(t));
  }
  // The platform's EMAIL is MAIL wherever MAIL is, configured alias or not, unless an
  // operator gave the name to another channel on purpose.
  if (auto mail = find_type("MAIL"); mail && !find_type("EMAIL")) {
    types_[*mail].aliases.push_back("EMAIL");
  }
  routable_ = types_.size();
  for (auto platform : kPlatformChannelTypes) {
    if (find_type(platform)) continue;
    if (types_.size() >= kMaxChannelTypes) break;
    Type t{std::string(platform), {}};
    // The platform's own alias of MAIL is known even when MAIL has no adapter here.
    if (platform == "MAIL" && !find_type("EMAIL")) t.aliases.push_back("EMAIL");
    types_.push_back(std::move(t));
  }
  std::vector<TopicRegistry::Topic> resolved;
  for (const auto& topic : topics) {
    if (resolved.size() >= kMaxTopics) break;
    TopicRegistry::Topic t{topic.name, topic.policy, 0};
    for (const auto& channel : topic.channels) {
      if (auto index = find_type(channel)) t.channel_mask |= std::uint64_t{1} << *index;
    }
    resolved.push_back(std::move(t));
  }
  topics_ = TopicRegistry(std::move(resolved));
}

std::optional<std::size_t> ChannelRegistry::find_type(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < types_.size(); ++i) {
    if (iequals(types_[i].name, name)) return i;
    for (const auto& alias : types_[i].aliases) {
      if (iequals(alias, name)) return i;
    }
  }
  return std::nullopt;
}

std::optional<std::size_t> ChannelRegistry::find_routable(std::string_view name) const noexcept {
  auto i = find_type(name);
  if (i && *i < routable_) return i;
  return std::nullopt;
}

}  // namespace gk

#include "common/rules/optout_record.h"

namespace gk {

bool status_value_true(std::string_view value) noexcept {
  return !(value.empty() || value == "0" || iequals(value, "false"));
}

void apply_status_field(OptOutRecord& record, const ChannelRegistry& channels,
                        std::string_view field, std::string_view value) noexcept {
  const bool set = status_value_true(value);
  if (field.size() > kTopicFieldPrefix.size() && field.starts_with(kTopicFieldPrefix)) {
    const std::string_view name = field.substr(kTopicFieldPrefix.size());
    // Topic names hold no ':', so "topic:<name>:ts" never matches a topic.
    const auto index = channels.topics().find(name);
    if (!index) return;
    const std::uint64_t bit = std::uint64_t{1} << *index;
    record.topics_out = set ? (record.topics_out | bit) : (record.topics_out & ~bit);
    record.topics_in = set ? (record.topics_in & ~bit) : (record.topics_in | bit);
    return;
  }
  if (field.find(':') != std::string_view::npos) return;
  if (iequals(field, kAllChannel)) {
    record.all = set;
  } else if (iequals(field, kBlacklistField)) {
    record.blacklisted = set;
  } else if (auto index = channels.find_type(field)) {
    const std::uint64_t bit = std::uint64_t{1} << *index;
    record.channels = set ? (record.channels | bit) : (record.channels & ~bit);
  }
}

}  // namespace gk

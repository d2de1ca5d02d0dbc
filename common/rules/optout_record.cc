#include "common/rules/optout_record.h"

namespace gk {

bool status_value_true(std::string_view value) noexcept {
  return !(value.empty() || value == "0" || iequals(value, "false"));
}

void apply_status_field(OptOutRecord& record, const ChannelRegistry& channels,
                        std::string_view field, std::string_view value) noexcept {
  if (field.find(':') != std::string_view::npos) return;
  const bool set = status_value_true(value);
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

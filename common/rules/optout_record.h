#pragma once

#include <cstdint>
#include <string_view>

#include "common/rules/channels.h"

namespace gk {

// What one Redis status hash says about a person, reduced to what the rules need.
struct OptOutRecord {
  std::uint64_t channels = 0;  // bit i set: opted out of channel type i of the registry
  bool all = false;
  bool blacklisted = false;

  bool opted_out(std::size_t channel_index) const noexcept {
    return (channels >> channel_index) & 1U;
  }
  // A message naming several records is suppressed if any of them says so.
  OptOutRecord& operator|=(const OptOutRecord& other) noexcept {
    channels |= other.channels;
    all = all || other.all;
    blacklisted = blacklisted || other.blacklisted;
    return *this;
  }
  friend bool operator==(const OptOutRecord&, const OptOutRecord&) = default;
};

// Applies one hash field to a record. Fields other writers may add (":ts" stamps, unknown
// channels) are ignored. Any value but "0", "false" or "" counts as set, so a garbled value
// written by another job fails closed.
void apply_status_field(OptOutRecord& record, const ChannelRegistry& channels,
                        std::string_view field, std::string_view value) noexcept;

// True when a stored value means "set".
bool status_value_true(std::string_view value) noexcept;

}  // namespace gk

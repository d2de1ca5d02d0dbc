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
  // Topics keep two bits, since for an opt-in topic an explicit "0" (joined) differs from
  // no value. Within one hash at most one of the two is set; merged over several records
  // (user and lead) both can be, and then leaving wins: a message is suppressed if any
  // record says so, the same fail-closed rule as for channels.
  std::uint64_t topics_out = 0;  // bit i: stored "1" for topic i of the registry (left)
  std::uint64_t topics_in = 0;   // bit i: stored "0" for topic i (explicitly subscribed)

  bool opted_out(std::size_t channel_index) const noexcept {
    return (channels >> channel_index) & 1U;
  }
  bool left_topic(std::size_t topic) const noexcept { return (topics_out >> topic) & 1U; }
  bool joined_topic(std::size_t topic) const noexcept { return (topics_in >> topic) & 1U; }
  // A message naming several records is suppressed if any of them says so.
  OptOutRecord& operator|=(const OptOutRecord& other) noexcept {
    channels |= other.channels;
    all = all || other.all;
    blacklisted = blacklisted || other.blacklisted;
    topics_out |= other.topics_out;
    topics_in |= other.topics_in;
    return *this;
  }
  friend bool operator==(const OptOutRecord&, const OptOutRecord&) = default;
};

// Applies one hash field to a record: a channel, ALL, BLACKLIST or "topic:<name>" of a topic
// the registry knows. Fields other writers may add (":ts" stamps, unknown channels or topics)
// are ignored. Any value but "0", "false" or "" counts as set, so a garbled value
// written by another job fails closed.
void apply_status_field(OptOutRecord& record, const ChannelRegistry& channels,
                        std::string_view field, std::string_view value) noexcept;

// True when a stored value means "set".
bool status_value_true(std::string_view value) noexcept;

}  // namespace gk

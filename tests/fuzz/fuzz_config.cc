// libFuzzer target: the TOML configuration loader (PROTOCOL.md 8), as `--config` and
// `--check-config` use it; an accepted config is then turned into the channel registry.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/config/config.h"
#include "common/rules/channels.h"
#include "common/rules/optout_record.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const gk::ConfigResult result = gk::parse_config(text, "fuzz.toml");
  // Exactly one of: a config, or at least one error that says something.
  GK_FUZZ_CHECK(result.config.has_value() == result.errors.empty());
  for (const gk::ConfigError& error : result.errors) {
    GK_FUZZ_CHECK(!error.message.empty());
    GK_FUZZ_CHECK(!error.to_string().empty());
  }
  if (!result.config) return 0;
  const gk::Config& config = *result.config;
  GK_FUZZ_CHECK(!config.channels.empty());
  const gk::ChannelRegistry channels(config.channels);
  GK_FUZZ_CHECK(channels.routable_count() == config.channels.size());
  // Every configured channel can carry a status of its own: a person opted out of all of
  // them reads as opted out of each (the record keeps one bit per channel type).
  gk::OptOutRecord record;
  for (const gk::ChannelConfig& channel : config.channels) {
    gk::apply_status_field(record, channels, channel.name, "1");
  }
  for (const gk::ChannelConfig& channel : config.channels) {
    const auto index = channels.find_routable(channel.name);
    GK_FUZZ_CHECK(index.has_value() && channels.name(*index) == channel.name);
    GK_FUZZ_CHECK(*index < gk::kMaxChannelTypes);
    GK_FUZZ_CHECK(record.opted_out(*index));
    for (const auto& alias : channel.aliases) {
      GK_FUZZ_CHECK(channels.find_routable(alias) == index);
    }
  }
  return 0;
}

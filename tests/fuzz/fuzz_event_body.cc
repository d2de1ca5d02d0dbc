// libFuzzer target: event bodies (PROTOCOL.md 5), JSON or msgpack, as the events socket and
// POST /events parse them, followed by what the processor builds from an accepted event:
// the status change and the system event (JSON, msgpack and stream fields).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/config/config.h"
#include "common/protocol/events.h"
#include "common/protocol/system_event.h"
#include "common/rules/channels.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr std::size_t kMaxEvents = 50;  // http.max_events_per_body default

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto& channels = gk::fuzz::registry();
  const gk::EventBodyResult result = gk::parse_event_body(bytes, channels, kMaxEvents);
  if (!result.ok()) {
    GK_FUZZ_CHECK(!result.error->field.empty());
    GK_FUZZ_CHECK(!result.error->message.empty());
    // The HTTP API sends the error back as JSON; it must serialise whatever bytes it echoes.
    (void)gk::safe_dump({{"error", result.error->message}, {"field", result.error->field}});
    return 0;
  }
  const gk::EventBody& body = result.body;
  GK_FUZZ_CHECK(!body.events.empty() && body.events.size() <= kMaxEvents);
  GK_FUZZ_CHECK(!body.identity.external_id.empty() || !body.identity.email.empty());

  for (const gk::Event& event : body.events) {
    if (!event.accepted()) {
      GK_FUZZ_CHECK(!event.error->message.empty());
      (void)gk::safe_dump({{"error", event.error->message}, {"field", event.error->field}});
      continue;
    }
    GK_FUZZ_CHECK(!event.name.empty());
    GK_FUZZ_CHECK(event.properties.is_object());
    GK_FUZZ_CHECK(event.channel.empty() || event.channel == gk::kAllChannel ||
                  channels.find_type(event.channel).has_value());
    if (const auto change = gk::status_change(event, channels)) {
      GK_FUZZ_CHECK(change->field == gk::kAllChannel || change->field == gk::kBlacklistField ||
                    channels.find_type(change->field).has_value());
    }
    gk::SystemEvent e;
    e.event = event.name;
    e.id = body.identity.external_id;
    e.email = body.identity.email;
    e.bu = body.identity.bu;
    e.channel = event.channel;
    e.timestamp = event.timestamp.value_or(0);
    e.source = std::string(gk::event_source(event));
    e.properties = event.properties;
    GK_FUZZ_CHECK(!gk::to_msgpack(e).empty());
    GK_FUZZ_CHECK(!gk::stream_fields(e).empty());
    (void)gk::safe_dump(e.properties);
  }
  return 0;
}

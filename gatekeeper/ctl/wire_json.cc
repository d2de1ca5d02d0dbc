#include "gatekeeper/ctl/wire_json.h"

namespace gk::ctl {

namespace {

using nlohmann::json;

// Never throws: a frame that is not msgpack gives a discarded value, which the caller reports.
json from_msgpack(const std::string& bytes) {
  return json::from_msgpack(bytes, /*strict=*/true, /*allow_exceptions=*/false);
}

}  // namespace

json decision_json(const client::Decision& decision) {
  json out;
  if (!decision.error.empty()) {
    out["error"] = decision.error;
  } else {
    out = {{"id", decision.id},
           {"verdict", decision.verdict},
           {"reason", decision.reason},
           {"channel", decision.channel}};
    if (!decision.detail.empty()) out["detail"] = decision.detail;
  }
  if (!decision.frames.empty()) {
    const json header = from_msgpack(decision.frames[0]);
    // A malformed message's header is exactly what could not be decoded: show its size.
    if (header.is_discarded()) {
      out["header_bytes"] = decision.frames[0].size();
    } else {
      out["header"] = header;
    }
  }
  out["payload_bytes"] = decision.frames.size() > 1 ? decision.frames[1].size() : 0;
  return out;
}

json system_event_json(const std::vector<std::string>& frames) {
  if (frames.size() == 2) {
    json event = from_msgpack(frames[1]);
    if (event.is_object()) return event;
  }
  json out = {{"error", "not a [topic, msgpack map] system event"}, {"frames", frames.size()}};
  if (!frames.empty()) out["topic"] = frames[0];
  return out;
}

}  // namespace gk::ctl

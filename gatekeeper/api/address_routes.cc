#include "gatekeeper/api/address_routes.h"

#include "common/protocol/system_event.h"
#include "common/util/timestamp.h"
#include "gatekeeper/http/http_server.h"

namespace gk {

namespace {

using nlohmann::json;

json address_json(const std::string& channel, const std::string& address, bool suppressed,
                  const std::string& reason, EpochMs ts) {
  return {{"channel.type", channel},
          {"address", address},
          {"suppressed", suppressed},
          {"reason", reason.empty() ? json(nullptr) : json(reason)},
          {"timestamp", ts > 0 ? json(format_iso8601(ts)) : json(nullptr)}};
}

}  // namespace

std::span<const RouteSpec<AddressRoutes>> AddressRoutes::routes() {
  // `(.+)`: a device token or URL address may contain '/'; a channel name cannot.
  static constexpr RouteSpec<AddressRoutes> kRoutes[] = {
      {{"GET", "/addresses/{channel}/{address}", R"(/addresses/([^/]+)/(.+))"},
       &AddressRoutes::get_address},
      {{"PUT", "/addresses/{channel}/{address}", R"(/addresses/([^/]+)/(.+))"},
       &AddressRoutes::put_address},
  };
  return kRoutes;
}

bool AddressRoutes::address_of(const httplib::Request& req, httplib::Response& res,
                               std::string& channel, std::string& address) {
  if (addresses_ == nullptr) {
    send_error(res, 503, "address suppressions are not available");
    return false;
  }
  const std::string name = req.matches[1].str();
  const auto c = addresses_->channel(name);
  if (!c) {
    send_error(res, 404, "unknown channel '" + name + "'");
    return false;
  }
  channel = *c;
  const std::string raw = req.matches[2].str();
  if (!normalize_address(channel, raw, address)) {
    send_error(res, 400, address_problem(channel, raw));
    return false;
  }
  return true;
}

void AddressRoutes::get_address(const httplib::Request& req, httplib::Response& res) {
  std::string channel, address;
  if (!address_of(req, res, channel, address)) return;
  const auto state = addresses_->read(channel, address);
  if (!state) return send_error(res, 503, kStoreUnavailable);
  send_json(res, 200, address_json(channel, address, state->suppressed, state->reason, state->ts));
}

void AddressRoutes::put_address(const httplib::Request& req, httplib::Response& res) {
  std::string channel, address;
  if (!address_of(req, res, channel, address)) return;
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return send_error(res, 400,
                      "body must be a JSON object like {\"suppressed\": true, \"reason\": "
                      "\"manual\"}");
  }
  const auto s = body.find("suppressed");
  if (s == body.end()) return send_error(res, 400, "suppressed is missing");
  if (!s->is_boolean()) return send_error(res, 400, "suppressed must be true or false");
  AddressChange change;
  change.channel = channel;
  change.address = address;
  change.suppressed = s->get<bool>();
  change.reason = AddressReason::kManual;
  if (const auto r = body.find("reason"); r != body.end() && !r->is_null()) {
    const auto parsed =
        r->is_string() ? parse_address_reason(r->get_ref<const std::string&>()) : std::nullopt;
    if (!parsed) {
      return send_error(res, 400, "reason must be one of bounce, complaint, sms_stop, manual");
    }
    change.reason = *parsed;
  }
  change.ts = now_ms();
  change.source = "api";
  const auto applied = addresses_->apply(change);
  if (!applied) return send_error(res, 503, kStoreUnavailable);
  if (applied->erased) return send_error(res, 404, "no such address: erased");
  const AddressWriteResult& w = applied->write;
  json answer = address_json(channel, address, w.suppressed, w.reason, w.ts);
  answer["changed"] = w.changed;
  send_json(res, 200, answer);
}

}  // namespace gk

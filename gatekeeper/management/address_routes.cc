#include "gatekeeper/management/address_routes.h"

#include "common/protocol/system_event.h"
#include "common/util/timestamp.h"
#include "gatekeeper/ops/http_server.h"

namespace gk {

namespace {

using nlohmann::json;

constexpr const char* kStoreUnavailable = "status store unavailable";

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(safe_dump(body), "application/json");
}

std::vector<std::string> params(const httplib::Request& req, const char* name) {
  std::vector<std::string> out;
  const std::size_t n = req.get_param_value_count(name);
  for (std::size_t i = 0; i < n; ++i) out.push_back(req.get_param_value(name, i));
  return out;
}

json address_json(bool suppressed, const std::string& reason, EpochMs ts) {
  json j = {{"suppressed", suppressed},
            {"reason", reason.empty() ? json(nullptr) : json(reason)},
            {"timestamp", ts > 0 ? json(format_iso8601(ts)) : json(nullptr)},
            {"ts", ts > 0 ? json(ts) : json(nullptr)}};
  return j;
}

}  // namespace

void AddressRoutes::register_routes(httplib::Server& server, HttpApi& api) {
  using namespace std::placeholders;
  server.Get(R"(/addresses/([^/]+)/(.+))",
             api.route("/addresses", std::bind(&AddressRoutes::get_address, this, _1, _2)));
  server.Put(R"(/addresses/([^/]+)/(.+))",
             api.route("/addresses", std::bind(&AddressRoutes::put_address, this, _1, _2)));
  server.Delete(R"(/users/(.+))",
                api.route("/users", std::bind(&AddressRoutes::delete_user, this, _1, _2)));
  server.Delete("/leads",
                api.route("/leads", std::bind(&AddressRoutes::delete_lead, this, _1, _2)));
  server.Post("/import",
              api.route("/import", std::bind(&AddressRoutes::post_import, this, _1, _2)));
  server.Get("/export", api.route("/export", std::bind(&AddressRoutes::get_export, this, _1, _2)));
}

bool AddressRoutes::address_of(const httplib::Request& req, httplib::Response& res,
                               std::string& channel, std::string& address) {
  const std::string name = req.matches.size() > 2 ? req.matches[1].str() : "";
  const auto c = addresses_.channel(name);
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
  std::string channel, address, error;
  if (!address_of(req, res, channel, address)) return;
  const auto state = addresses_.read(channel, address, error);
  if (!state) return send_error(res, 503, kStoreUnavailable);
  json body = address_json(state->suppressed, state->reason, state->ts);
  body["channel.type"] = channel;
  body["address"] = address;
  reply(res, 200, body);
}

void AddressRoutes::put_address(const httplib::Request& req, httplib::Response& res) {
  std::string channel, address, error;
  if (!address_of(req, res, channel, address)) return;
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return send_error(res, 400, "body must be a JSON object");
  }
  const auto s = body.find("suppressed");
  if (s == body.end() || !s->is_boolean()) {
    return send_error(res, 400, "suppressed must be true or false");
  }
  AddressWrite w;
  w.suppressed = s->get<bool>();
  w.reason = AddressReason::kManual;
  if (const auto r = body.find("reason"); r != body.end() && !r->is_null()) {
    const auto parsed = r->is_string() ? parse_address_reason(r->get<std::string>()) : std::nullopt;
    if (!parsed) {
      return send_error(res, 400, "reason must be one of bounce, complaint, sms_stop, manual");
    }
    w.reason = *parsed;
  }
  w.ts = now_ms();
  const auto result = addresses_.change(channel, address, w, "api", json::object(), error);
  if (!result) return send_error(res, 503, kStoreUnavailable);
  json answer = address_json(result->suppressed, result->reason, result->ts);
  answer["channel.type"] = channel;
  answer["address"] = address;
  answer["changed"] = result->changed;
  reply(res, 200, answer);
}

void AddressRoutes::erased(httplib::Response& res,
                           const std::optional<ErasureService::Result>& result) {
  if (!result) return send_error(res, 503, kStoreUnavailable);
  reply(res, 200,
        {{"erased", true},
         {"keysDeleted", result->keys_deleted},
         {"streamEntriesDeleted", result->stream_entries_deleted},
         {"tombstones", result->tombstones}});
}

void AddressRoutes::delete_user(const httplib::Request& req, httplib::Response& res) {
  if (!erasure_.enabled()) return send_error(res, 503, "erasure needs erasure.salt in the config");
  const std::string id = req.matches.size() > 1 ? req.matches[1].str() : "";
  if (id.empty()) return send_error(res, 400, "external id is missing");
  const std::string bu = req.has_param("businessUnit") ? req.get_param_value("businessUnit") : "";
  std::string error;
  erased(res, erasure_.erase_user(bu, id, params(req, "email"), params(req, "phone"), error));
}

void AddressRoutes::delete_lead(const httplib::Request& req, httplib::Response& res) {
  if (!erasure_.enabled()) return send_error(res, 503, "erasure needs erasure.salt in the config");
  const std::string email = req.has_param("email") ? req.get_param_value("email") : "";
  std::string normalized;
  if (!normalize_address("MAIL", email, normalized)) {
    return send_error(res, 400,
                      email.empty() ? "query parameter email is missing"
                                    : "'" + email + "' is not an e-mail address");
  }
  const std::string bu = req.has_param("businessUnit") ? req.get_param_value("businessUnit") : "";
  std::string error;
  erased(res, erasure_.erase_lead(bu, normalized, params(req, "phone"), error));
}

void AddressRoutes::post_import(const httplib::Request& req, httplib::Response& res) {
  const bool dry = req.has_param("dryRun") && req.get_param_value("dryRun") != "false" &&
                   req.get_param_value("dryRun") != "0";
  std::string error;
  const auto result = bulk_.import(req.body, dry, error);
  if (!result) return send_error(res, 503, kStoreUnavailable + (": " + error));
  json errors = json::array();
  for (const auto& e : result->errors) errors.push_back({{"row", e.row}, {"error", e.error}});
  reply(res, 200,
        {{"rows", result->rows},
         {"applied", result->applied},
         {"changed", result->changed},
         {"dryRun", dry},
         {"errors", errors}});
}

void AddressRoutes::get_export(const httplib::Request&, httplib::Response& res) {
  std::string error;
  auto csv = bulk_.export_csv(error);
  if (!csv) return send_error(res, 503, kStoreUnavailable);
  res.status = 200;
  res.set_content(std::move(*csv), "text/csv");
}

}  // namespace gk

#include "gatekeeper/management/http_api.h"

#include <algorithm>
#include <set>

#include "common/protocol/events.h"
#include "common/rules/optout_record.h"
#include "common/protocol/system_event.h"
#include "common/util/timestamp.h"
#include "gatekeeper/management/erasure.h"
#include "gatekeeper/ops/http_server.h"

namespace gk {

namespace {

using nlohmann::json;

constexpr const char* kAuthHeader = "X-XNG-AuthToken";
constexpr const char* kVersionHeader = "X-XNG-ApiVersion";
constexpr const char* kStoreUnavailable = "status store unavailable";

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(safe_dump(body), "application/json");
}

// The error shape of the platform's API: what is wrong, which key, which kind of problem.
json error_body(const FieldError& e) {
  return {{"error", e.message}, {"field", e.field}, {"type", std::string(to_string(e.type))}};
}

bool flag(const StatusService::Fields& fields, std::string_view field) {
  const auto it = fields.find(std::string(field));
  return it != fields.end() && status_value_true(it->second);
}

// The path's one capture: the external id (it may contain '/', the pattern is greedy).
std::string path_id(const httplib::Request& req) {
  return req.matches.size() > 1 ? req.matches[1].str() : std::string();
}

std::string business_unit(const httplib::Request& req) {
  return req.has_param("businessUnit") ? req.get_param_value("businessUnit") : std::string();
}

json result_json(std::size_t index, const Event& event, const EventOutcome& outcome) {
  json r = {{"index", index}};
  switch (outcome.status) {
    case EventOutcome::Status::kAccepted:
      r["status"] = "accepted";
      r["changed"] = outcome.changed;
      break;
    case EventOutcome::Status::kRejected:
      r["status"] = "rejected";
      r.update(error_body(*event.error));
      break;
    case EventOutcome::Status::kStoreUnavailable:
      r["status"] = "failed";
      r["error"] = kStoreUnavailable;
      break;
  }
  return r;
}

}  // namespace

HttpApi::HttpApi(const Config& config, const ChannelRegistry& channels, StatusService& status,
                 EventProcessor& processor, ManagementMetrics& metrics)
    : config_(config),
      channels_(channels),
      status_(status),
      processor_(processor),
      metrics_(metrics),
      tokens_(std::make_shared<const ApiTokens>(config.http)) {}

std::shared_ptr<const ApiTokens> HttpApi::tokens() const {
  std::lock_guard lock(tokens_mutex_);
  return tokens_;
}

void HttpApi::reload_tokens(const HttpConfig& config) {
  auto fresh = std::make_shared<const ApiTokens>(config);
  std::lock_guard lock(tokens_mutex_);
  tokens_ = std::move(fresh);
}

httplib::Server::Handler HttpApi::route(std::string name, Handler handler) {
  return [this, name = std::move(name), handler = std::move(handler)](const httplib::Request& req,
                                                                      httplib::Response& res) {
    if (!tokens()->accepts(req.get_header_value(kAuthHeader))) {
      send_error(res, 401, "missing or invalid X-XNG-AuthToken");
    } else if (req.has_header(kVersionHeader) && req.get_header_value(kVersionHeader) != "1") {
      send_error(res, 400,
                 "unsupported X-XNG-ApiVersion '" + req.get_header_value(kVersionHeader) +
                     "' (supported: 1)");
    } else {
      handler(req, res);
    }
    metrics_.http_requests.Add({{"route", name}, {"status", std::to_string(res.status)}})
        .Increment();
  };
}

void HttpApi::register_routes(httplib::Server& server) {
  using std::placeholders::_1;
  using std::placeholders::_2;
  const std::string optout = "/users/{externalId}/optout-status";
  const std::string blacklist = "/users/{externalId}/blacklist-status";
  server.Get(R"(/users/(.+)/optout-status)",
             route(optout, std::bind(&HttpApi::get_optout, this, _1, _2)));
  server.Put(R"(/users/(.+)/optout-status)",
             route(optout, std::bind(&HttpApi::put_optout, this, _1, _2)));
  server.Get(R"(/users/(.+)/blacklist-status)",
             route(blacklist, std::bind(&HttpApi::get_blacklist, this, _1, _2)));
  server.Put(R"(/users/(.+)/blacklist-status)",
             route(blacklist, std::bind(&HttpApi::put_blacklist, this, _1, _2)));
  server.Get(R"(/users/(.+)/recipient-status)",
             route("/users/{externalId}/recipient-status",
                   std::bind(&HttpApi::get_recipient, this, _1, _2)));
  server.Get(R"(/users/(.+)/optout-history)",
             route("/users/{externalId}/optout-history",
                   std::bind(&HttpApi::get_user_history, this, _1, _2)));
  server.Get("/leads/optout-history",
             route("/leads/optout-history", std::bind(&HttpApi::get_lead_history, this, _1, _2)));
  server.Post("/events", route("/events", std::bind(&HttpApi::post_events, this, _1, _2)));

  if (config_.http.metrics_require_token) {
    // /metrics belongs to HttpServer; the token check goes in front of it. A GET carries no
    // body, so answering before the body is read leaves nothing unread on the connection.
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.path != "/metrics" || tokens()->accepts(req.get_header_value(kAuthHeader))) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      send_error(res, 401, "missing or invalid X-XNG-AuthToken");
      return httplib::Server::HandlerResponse::Handled;
    });
  }
}

std::optional<std::string> HttpApi::channel_param(const httplib::Request& req,
                                                  httplib::Response& res) {
  if (!req.has_param("channelType")) return std::string(kAllChannel);
  const std::string name = req.get_param_value("channelType");
  if (iequals(name, kAllChannel)) return std::string(kAllChannel);
  if (const auto index = channels_.find_type(name)) return channels_.name(*index);
  reply(
      res, 400,
      error_body({"channelType", ErrorType::kUnknownValue, "unknown channelType '" + name + "'"}));
  return std::nullopt;
}

std::optional<StatusService::Fields> HttpApi::read_user(const httplib::Request& req,
                                                        httplib::Response& res) {
  std::string error;
  if (erased(req, res)) return std::nullopt;
  auto fields = status_.read_user(business_unit(req), path_id(req), error);
  if (!fields) send_error(res, 503, kStoreUnavailable);
  return fields;
}

bool HttpApi::erased(const httplib::Request& req, httplib::Response& res) {
  if (erasure_ == nullptr) return false;
  std::string error;
  const auto gone = erasure_->user_erased(business_unit(req), path_id(req), error);
  if (!gone) {
    send_error(res, 503, kStoreUnavailable);
    return true;
  }
  if (*gone) send_error(res, 404, "no such user: erased");
  return *gone;
}

void HttpApi::get_optout(const httplib::Request& req, httplib::Response& res) {
  const auto field = channel_param(req, res);
  if (!field) return;
  const auto fields = read_user(req, res);
  if (!fields) return;
  const bool stored = flag(*fields, *field);
  const bool blocked = flag(*fields, kAllChannel) || flag(*fields, kBlacklistField);
  reply(res, 200, {{"optOut", stored}, {"channelType", *field}, {"effective", stored || blocked}});
}

void HttpApi::put_optout(const httplib::Request& req, httplib::Response& res) {
  const auto field = channel_param(req, res);
  if (!field) return;
  put_status(req, res, *field, "optOut", kOptOutEvent, kOptInEvent);
}

void HttpApi::get_blacklist(const httplib::Request& req, httplib::Response& res) {
  const auto fields = read_user(req, res);
  if (!fields) return;
  reply(res, 200, {{"blacklisted", flag(*fields, kBlacklistField)}});
}

void HttpApi::put_blacklist(const httplib::Request& req, httplib::Response& res) {
  put_status(req, res, std::string(kBlacklistField), "blacklisted", kBlacklistedEvent,
             kWhitelistedEvent);
}

void HttpApi::get_recipient(const httplib::Request& req, httplib::Response& res) {
  const auto fields = read_user(req, res);
  if (!fields) return;
  std::set<std::string> channels;  // sorted, each canonical name once
  for (const auto& [field, value] : *fields) {
    if (field.find(':') != std::string::npos || !status_value_true(value)) continue;
    if (const auto index = channels_.find_type(field)) channels.insert(channels_.name(*index));
  }
  reply(res, 200,
        {{"blacklisted", flag(*fields, kBlacklistField)},
         {"optOutAll", flag(*fields, kAllChannel)},
         {"optOutChannels", channels}});
}

void HttpApi::get_user_history(const httplib::Request& req, httplib::Response& res) {
  if (erased(req, res)) return;
  std::string error;
  auto history = status_.history(false, business_unit(req), path_id(req), error);
  if (!history) return send_error(res, 503, kStoreUnavailable);
  reply(res, 200, {{"history", *history}});
}

void HttpApi::get_lead_history(const httplib::Request& req, httplib::Response& res) {
  const std::string email = req.has_param("email") ? req.get_param_value("email") : "";
  if (email.empty()) {
    return reply(
        res, 400,
        error_body({"email", ErrorType::kMissingValue, "query parameter email is missing"}));
  }
  std::string error;
  if (erasure_ != nullptr) {
    const auto gone = erasure_->email_erased(email, error);
    if (!gone) return send_error(res, 503, kStoreUnavailable);
    if (*gone) return send_error(res, 404, "no such lead: erased");
  }
  auto history = status_.history(true, business_unit(req), email, error);
  if (!history) return send_error(res, 503, kStoreUnavailable);
  reply(res, 200, {{"history", *history}});
}

void HttpApi::put_status(const httplib::Request& req, httplib::Response& res,
                         const std::string& field, const char* body_key, std::string_view on_event,
                         std::string_view off_event) {
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    return reply(res, 400,
                 error_body({"body", ErrorType::kInvalidFormat, "body is not valid JSON"}));
  }
  if (!body.is_object()) {
    return reply(res, 400,
                 error_body({"body", ErrorType::kInvalidValue, "body must be a JSON object"}));
  }
  const auto it = body.find(body_key);
  if (it == body.end()) {
    return reply(
        res, 400,
        error_body({body_key, ErrorType::kMissingValue, std::string(body_key) + " is missing"}));
  }
  if (!it->is_boolean()) {
    return reply(res, 400,
                 error_body({body_key, ErrorType::kInvalidValue,
                             std::string(body_key) + " must be true or false"}));
  }
  const bool value = it->get<bool>();
  const EpochMs now = now_ms();
  StatusWrite w;
  w.bu = business_unit(req);
  w.external_id = path_id(req);
  w.field = field;
  w.value = value;
  w.ts = now;
  w.received = now;
  w.source = "api";
  w.event = std::string(value ? on_event : off_event);
  w.properties = "{}";
  std::string error;
  // An explicit Opt In lifts an erasure of this user (section 13).
  if (w.event == kOptInEvent && erasure_ != nullptr) {
    if (!erasure_->lift({w.external_id, "", w.bu}, error)) {
      return send_error(res, 503, kStoreUnavailable);
    }
  }
  const auto result = status_.write(w, error);
  if (!result) return send_error(res, 503, kStoreUnavailable);

  SystemEvent e;
  e.event = w.event;
  e.id = w.external_id;
  e.bu = w.bu;
  if (field != kBlacklistField) e.channel = field;
  e.timestamp = now;
  e.source = "api";
  e.changed = result->changed;
  status_.publish(e);

  // The stored value after the call: normally the one asked for; the old one if a change
  // with a later time (e.g. an event stamped in the future) was already stored.
  json answer = {{body_key, result->applied ? value : result->old_value},
                 {"changed", result->changed},
                 {"applied", result->applied}};
  if (field != kBlacklistField) answer["channelType"] = field;
  reply(res, 200, answer);
}

void HttpApi::post_events(const httplib::Request& req, httplib::Response& res) {
  const EpochMs received = now_ms();
  // httplib enforces the limit on Content-Length; a chunked body is checked here.
  if (req.body.size() > config_.http.max_body_bytes) {
    return send_error(res, 413, "request body too large");
  }
  const auto parsed = parse_event_body(req.body, channels_, config_.http.max_events_per_body);
  if (!parsed.ok()) {
    metrics_.event_bodies.Add({{"transport", "http"}, {"result", "invalid"}}).Increment();
    return reply(res, 400, error_body(*parsed.error));
  }
  metrics_.event_bodies.Add({{"transport", "http"}, {"result", "ok"}}).Increment();
  const auto outcomes = processor_.process(parsed.body, received, RetryPolicy{});

  json results = json::array();
  const FieldError* first_rejection = nullptr;
  bool store_failed = false;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const Event& event = parsed.body.events[i];
    results.push_back(result_json(i, event, outcomes[i]));
    if (outcomes[i].status == EventOutcome::Status::kRejected && first_rejection == nullptr) {
      first_rejection = &*event.error;
    }
    store_failed = store_failed || outcomes[i].status == EventOutcome::Status::kStoreUnavailable;
  }
  if (store_failed) {
    // Events before the failure were applied; a retry of the whole body is safe, as an
    // equal time re-applies the same value.
    return reply(res, 503, {{"error", kStoreUnavailable}, {"results", results}});
  }
  const bool all_rejected = std::all_of(outcomes.begin(), outcomes.end(), [](const auto& o) {
    return o.status == EventOutcome::Status::kRejected;
  });
  if (all_rejected) {
    json answer = error_body(*first_rejection);
    if (outcomes.size() > 1)
      answer["error"] = "every event was rejected: " + first_rejection->message;
    answer["results"] = std::move(results);
    return reply(res, 400, answer);
  }
  reply(res, 202, {{"results", results}});
}

}  // namespace gk

#include "gatekeeper/api/http_api.h"

#include <algorithm>
#include <set>

#include "common/protocol/events.h"
#include "common/protocol/system_event.h"
#include "common/rules/identity.h"
#include "common/rules/optout_record.h"
#include "common/util/timestamp.h"
#include "gatekeeper/api/request_params.h"
#include "gatekeeper/http/http_server.h"

namespace gk {

namespace {

using nlohmann::json;

constexpr const char* kAuthHeader = "X-XNG-AuthToken";
constexpr const char* kVersionHeader = "X-XNG-ApiVersion";
bool flag(const StatusService::Fields& fields, std::string_view field) {
  const auto it = fields.find(std::string(field));
  return it != fields.end() && status_value_true(it->second);
}

json result_json(std::size_t index, const Event& event, const EventOutcome& outcome) {
  json r = {{"index", index}};
  switch (outcome.status) {
    case EventOutcome::Status::kAccepted:
      r["status"] = "accepted";
      r["changed"] = outcome.changed;
      if (outcome.timestamp_clamped) r["timestampClamped"] = true;
      if (outcome.link_refused) r["linkRefused"] = true;
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
      topic_routes_(channels, status),
      link_routes_(config, channels, status),
      bulk_(config, channels, status),
      bulk_routes_(bulk_),
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
    // The pre-routing gate already refused a bad token before the body was read; this
    // repeats it for safety only (a reload may have happened meanwhile).
    if (!tokens()->accepts(req.get_header_value(kAuthHeader))) {
      send_error(res, 401, "missing or invalid X-XNG-AuthToken");
    } else if (req.body.size() > config_.http.max_body_bytes) {
      // A chunked body is capped on its raw bytes; this is the limit on the decoded ones.
      send_error(res, 413,
                 "request body too large: over http.max_body_bytes (" +
                     std::to_string(config_.http.max_body_bytes) + " bytes)");
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

std::span<const RouteSpec<HttpApi>> HttpApi::own_routes() {
  // `(.+)`: an external id may contain '/', so the capture is greedy.
  static constexpr RouteSpec<HttpApi> kRoutes[] = {
      {{"GET", "/users/{externalId}/optout-status", R"(/users/(.+)/optout-status)"},
       &HttpApi::get_optout},
      {{"PUT", "/users/{externalId}/optout-status", R"(/users/(.+)/optout-status)"},
       &HttpApi::put_optout},
      {{"GET", "/users/{externalId}/blacklist-status", R"(/users/(.+)/blacklist-status)"},
       &HttpApi::get_blacklist},
      {{"PUT", "/users/{externalId}/blacklist-status", R"(/users/(.+)/blacklist-status)"},
       &HttpApi::put_blacklist},
      {{"GET", "/users/{externalId}/recipient-status", R"(/users/(.+)/recipient-status)"},
       &HttpApi::get_recipient},
      {{"GET", "/users/{externalId}/optout-history", R"(/users/(.+)/optout-history)"},
       &HttpApi::get_user_history},
      {{"GET", "/leads/optout-history", "/leads/optout-history"}, &HttpApi::get_lead_history},
      {{"POST", "/events", "/events"}, &HttpApi::post_events},
  };
  return kRoutes;
}

const std::vector<ApiRoute>& HttpApi::routes() {
  static const std::vector<ApiRoute> all = [] {
    std::vector<ApiRoute> v;
    for (const auto& r : own_routes()) v.push_back(r.route);
    for (const auto& r : TopicRoutes::routes()) v.push_back(r.route);
    for (const auto& r : LinkRoutes::routes()) v.push_back(r.route);
    for (const auto& r : BulkRoutes::routes()) v.push_back(r.route);
    for (const auto& r : AddressRoutes::routes()) v.push_back(r.route);
    for (const auto& r : ErasureRoutes::routes()) v.push_back(r.route);
    return v;
  }();
  return all;
}

void HttpApi::register_routes(httplib::Server& server) {
  const RouteAdder adder = [this, &server](const ApiRoute& r, Handler handler) {
    if (r.needs_token) {
      add(server, std::string(r.method), std::string(r.pattern), std::string(r.path),
          std::move(handler));
    } else {
      add_public(server, r, std::move(handler));
    }
  };
  add_routes(*this, own_routes(), adder);
  add_routes(topic_routes_, TopicRoutes::routes(), adder);
  add_routes(link_routes_, LinkRoutes::routes(), adder);
  add_routes(bulk_routes_, BulkRoutes::routes(), adder);
  add_routes(address_routes_, AddressRoutes::routes(), adder);
  add_routes(erasure_routes_, ErasureRoutes::routes(), adder);

  // httplib calls this before it reads a body: an unauthenticated client gets its 401
  // without sending (or the server buffering) a byte of body. The public /u/ pages refuse
  // a declared body over 64 KiB the same way.
  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path.rfind("/u/", 0) == 0 && req.has_header("Content-Length")) {
      const std::string length = req.get_header_value("Content-Length");
      if (length.size() > 7 || std::stoull("0" + length) > kMaxLinkBodyBytes) {
        res.status = 413;
        res.set_header("Connection", "close");
        res.set_content(
            "<!doctype html><title>Request too large</title><p>The request body is "
            "too large.</p>",
            "text/html; charset=utf-8");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (req.path == "/healthz" || req.path == "/readyz" ||
        tokens()->accepts(req.get_header_value(kAuthHeader))) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (req.path == "/metrics" && req.method == "GET" && config_.http.metrics_require_token) {
      send_error(res, 401, "missing or invalid X-XNG-AuthToken");
      return httplib::Server::HandlerResponse::Handled;
    }
    for (const auto& r : gated_) {
      if (r.method == req.method && std::regex_match(req.path, r.pattern)) {
        send_error(res, 401, "missing or invalid X-XNG-AuthToken");
        metrics_.http_requests.Add({{"route", r.name}, {"status", "401"}}).Increment();
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
}

void HttpApi::add(httplib::Server& server, const std::string& method, const std::string& pattern,
                  const std::string& name, Handler handler) {
  gated_.push_back({method, std::regex(pattern), name});
  if (method == "GET") {
    // Every read of a person's status, whichever module serves it.
    handler = [this, name, inner = std::move(handler)](const httplib::Request& req,
                                                       httplib::Response& res) {
      if (!answered_erased(name, req, res)) inner(req, res);
    };
  }
  auto wrapped = route(name, std::move(handler));
  if (method == "GET") server.Get(pattern, std::move(wrapped));
  if (method == "PUT") server.Put(pattern, std::move(wrapped));
  if (method == "POST") server.Post(pattern, std::move(wrapped));
  if (method == "DELETE") server.Delete(pattern, std::move(wrapped));
}

void HttpApi::add_public(httplib::Server& server, const ApiRoute& r, Handler handler) {
  auto counted = [this, name = std::string(r.path), handler = std::move(handler)](
                     const httplib::Request& req, httplib::Response& res) {
    handler(req, res);
    metrics_.http_requests.Add({{"route", name}, {"status", std::to_string(res.status)}})
        .Increment();
  };
  const std::string pattern(r.pattern);
  if (r.method == "GET") server.Get(pattern, std::move(counted));
  if (r.method == "POST") server.Post(pattern, std::move(counted));
}

bool HttpApi::answered_erased(const std::string& route, const httplib::Request& req,
                              httplib::Response& res) {
  if (erasure_ == nullptr || !erasure_->enabled()) return false;
  Result<bool> erased = false;
  if (route.starts_with("/users/{externalId}/")) {
    if (invalid_user(req, res)) return true;
    erased = erasure_->user_erased(business_unit(req), path_id(req));
  } else if (route == "/leads/optout-history") {
    const auto email = query_param(req, "email");
    if (!email) return false;  // the route answers what is missing
    erased = erasure_->email_erased(*email);
  } else {
    return false;
  }
  if (!erased) {
    send_error(res, 503, kStoreUnavailable);
    return true;
  }
  if (*erased) send_error(res, 404, "no such person: erased");
  return *erased;
}

std::optional<std::string> HttpApi::channel_param(const httplib::Request& req,
                                                  httplib::Response& res) {
  const auto param = query_param(req, "channelType");
  if (!param) return std::string(kAllChannel);
  const std::string& name = *param;
  if (iequals(name, kAllChannel)) return std::string(kAllChannel);
  if (const auto index = channels_.find_type(name)) return channels_.name(*index);
  send_json(
      res, 400,
      error_body({"channelType", ErrorType::kUnknownValue, "unknown channelType '" + name + "'"}));
  return std::nullopt;
}

std::optional<StatusService::Fields> HttpApi::read_user(const httplib::Request& req,
                                                        httplib::Response& res) {
  auto fields = status_.read_user(business_unit(req), path_id(req));
  if (!fields) {
    send_error(res, 503, kStoreUnavailable);
    return std::nullopt;
  }
  return std::move(fields).value();
}

void HttpApi::get_optout(const httplib::Request& req, httplib::Response& res) {
  if (invalid_user(req, res)) return;
  const auto field = channel_param(req, res);
  if (!field) return;
  const auto fields = read_user(req, res);
  if (!fields) return;
  const bool stored = flag(*fields, *field);
  const bool blocked = flag(*fields, kAllChannel) || flag(*fields, kBlacklistField);
  send_json(res, 200,
            {{"optOut", stored}, {"channelType", *field}, {"effective", stored || blocked}});
}

void HttpApi::put_optout(const httplib::Request& req, httplib::Response& res) {
  if (invalid_user(req, res)) return;
  const auto field = channel_param(req, res);
  if (!field) return;
  put_status(req, res, *field, "optOut", kOptOutEvent, kOptInEvent);
}

void HttpApi::get_blacklist(const httplib::Request& req, httplib::Response& res) {
  if (invalid_user(req, res)) return;
  const auto fields = read_user(req, res);
  if (!fields) return;
  send_json(res, 200, {{"blacklisted", flag(*fields, kBlacklistField)}});
}

void HttpApi::put_blacklist(const httplib::Request& req, httplib::Response& res) {
  if (invalid_user(req, res)) return;
  put_status(req, res, std::string(kBlacklistField), "blacklisted", kBlacklistedEvent,
             kWhitelistedEvent);
}

void HttpApi::get_recipient(const httplib::Request& req, httplib::Response& res) {
  if (invalid_user(req, res)) return;
  const auto fields = read_user(req, res);
  if (!fields) return;
  std::set<std::string> channels;  // sorted, each canonical name once
  for (const auto& [field, value] : *fields) {
    if (field.find(':') != std::string::npos || !status_value_true(value)) continue;
    if (const auto index = channels_.find_type(field)) channels.insert(channels_.name(*index));
  }
  send_json(res, 200,
            {{"blacklisted", flag(*fields, kBlacklistField)},
             {"optOutAll", flag(*fields, kAllChannel)},
             {"optOutChannels", channels}});
}

void HttpApi::get_user_history(const httplib::Request& req, httplib::Response& res) {
  if (invalid_user(req, res)) return;
  auto history = status_.history(false, business_unit(req), path_id(req));
  if (!history) return send_error(res, 503, kStoreUnavailable);
  send_json(res, 200, {{"history", *history}});
}

void HttpApi::get_lead_history(const httplib::Request& req, httplib::Response& res) {
  const std::string email = query_param(req, "email").value_or(std::string());
  if (email.empty()) {
    return send_json(
        res, 400,
        error_body({"email", ErrorType::kMissingValue, "query parameter email is missing"}));
  }
  if (refuse(res, "businessUnit", business_unit_problem(business_unit(req))) ||
      refuse(res, "email", email_problem(email))) {
    return;
  }
  auto history = status_.history(true, business_unit(req), normalize_email(email));
  if (!history) return send_error(res, 503, kStoreUnavailable);
  send_json(res, 200, {{"history", *history}});
}

void HttpApi::put_status(const httplib::Request& req, httplib::Response& res,
                         const std::string& field, const char* body_key, std::string_view on_event,
                         std::string_view off_event) {
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    return send_json(res, 400,
                     error_body({"body", ErrorType::kInvalidFormat, "body is not valid JSON"}));
  }
  if (!body.is_object()) {
    return send_json(res, 400,
                     error_body({"body", ErrorType::kInvalidValue, "body must be a JSON object"}));
  }
  const auto it = body.find(body_key);
  if (it == body.end()) {
    return send_json(
        res, 400,
        error_body({body_key, ErrorType::kMissingValue, std::string(body_key) + " is missing"}));
  }
  if (!it->is_boolean()) {
    return send_json(res, 400,
                     error_body({body_key, ErrorType::kInvalidValue,
                                 std::string(body_key) + " must be true or false"}));
  }
  const bool value = it->get<bool>();
  const auto applied = status_.apply(change_now(business_unit(req), path_id(req), {}, field, value,
                                                "api", value ? on_event : off_event));
  if (!applied) return send_error(res, 503, kStoreUnavailable);
  // As the reads answer: only an explicit Opt In reaches an erased person.
  if (applied->erased) return send_error(res, 404, "no such person: erased");
  const StatusWriteResult& result = applied->write;

  // The stored value after the call: normally the one asked for; the old one if a change
  // with a later time (e.g. an event stamped in the future) was already stored.
  json answer = {{body_key, result.applied ? value : result.old_value},
                 {"changed", result.changed},
                 {"applied", result.applied}};
  if (field != kBlacklistField) answer["channelType"] = field;
  if (applied->timestamp_clamped) answer["timestampClamped"] = true;
  send_json(res, 200, answer);
}

void HttpApi::post_events(const httplib::Request& req, httplib::Response& res) {
  const EpochMs received = now_ms();
  const auto parsed = parse_event_body(req.body, channels_, config_.http.max_events_per_body);
  if (!parsed.ok()) {
    metrics_.event_bodies.Add({{"transport", "http"}, {"result", "invalid"}}).Increment();
    return send_json(res, 400, error_body(*parsed.error));
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
    return send_json(res, 503, {{"error", kStoreUnavailable}, {"results", results}});
  }
  const bool all_rejected = std::all_of(outcomes.begin(), outcomes.end(), [](const auto& o) {
    return o.status == EventOutcome::Status::kRejected;
  });
  if (all_rejected) {
    json answer = error_body(*first_rejection);
    if (outcomes.size() > 1)
      answer["error"] = "every event was rejected: " + first_rejection->message;
    answer["results"] = std::move(results);
    return send_json(res, 400, answer);
  }
  send_json(res, 202, {{"results", results}});
}

}  // namespace gk

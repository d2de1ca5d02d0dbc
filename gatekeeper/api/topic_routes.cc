#include "gatekeeper/api/topic_routes.h"

#include "common/protocol/events.h"
#include "common/protocol/system_event.h"
#include "gatekeeper/api/request_params.h"
#include "gatekeeper/http/http_server.h"
#include "gatekeeper/management/preferences.h"

namespace gk {

using nlohmann::json;

std::span<const RouteSpec<TopicRoutes>> TopicRoutes::routes() {
  // `(.+)`: an external id may contain '/', so the capture is greedy; a topic name cannot.
  static constexpr RouteSpec<TopicRoutes> kRoutes[] = {
      {{"GET", "/users/{externalId}/topics/{topic}", R"(/users/(.+)/topics/([^/]+))"},
       &TopicRoutes::get_topic},
      {{"PUT", "/users/{externalId}/topics/{topic}", R"(/users/(.+)/topics/([^/]+))"},
       &TopicRoutes::put_topic},
      {{"GET", "/users/{externalId}/preferences", R"(/users/(.+)/preferences)"},
       &TopicRoutes::get_preferences},
  };
  return kRoutes;
}

void TopicRoutes::get_topic(const httplib::Request& req, httplib::Response& res) {
  if (invalid_user(req, res)) return;
  const std::string name = req.matches[2].str();
  const auto index = channels_.topics().find(name);
  if (!index) return send_error(res, 404, "unknown topic '" + name + "'");
  const auto fields = status_.read_user(business_unit(req), req.matches[1].str());
  if (!fields) return send_error(res, 503, kStoreUnavailable);
  send_json(res, 200, topic_json(topic_state(channels_.topics().at(*index), *fields)));
}

void TopicRoutes::put_topic(const httplib::Request& req, httplib::Response& res) {
  if (invalid_user(req, res)) return;
  const std::string name = req.matches[2].str();
  const auto index = channels_.topics().find(name);
  if (!index) return send_error(res, 404, "unknown topic '" + name + "'");
  const TopicRegistry::Topic& topic = channels_.topics().at(*index);
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return send_error(res, 400, "body must be a JSON object like {\"subscribed\": true}");
  }
  const auto it = body.find("subscribed");
  if (it == body.end()) return send_error(res, 400, "subscribed is missing");
  if (!it->is_boolean()) return send_error(res, 400, "subscribed must be true or false");
  const bool subscribed = it->get<bool>();
  if (!subscribed && topic.policy == TopicDefault::kRequired) {
    return send_error(res, 409, "topic '" + topic.name + "' is required: nobody can leave it");
  }
  const std::string bu = business_unit(req);
  const std::string external_id = req.matches[1].str();
  const auto applied =
      status_.apply(change_now(bu, external_id, {}, channels_.topics().field(*index), !subscribed,
                               "api", subscribed ? kOptInEvent : kOptOutEvent));
  if (!applied) return send_error(res, 503, kStoreUnavailable);
  if (applied->erased) return send_error(res, 404, "no such person: erased");
  // Read back: a change stamped later (an event from the future) may have kept its value.
  const auto fields = status_.read_user(bu, external_id);
  if (!fields) return send_error(res, 503, kStoreUnavailable);
  json answer = topic_json(topic_state(topic, *fields));
  answer["changed"] = applied->write.changed;
  answer["applied"] = applied->write.applied;
  send_json(res, 200, answer);
}

void TopicRoutes::get_preferences(const httplib::Request& req, httplib::Response& res) {
  if (invalid_user(req, res)) return;
  const auto fields = status_.read_user(business_unit(req), req.matches[1].str());
  if (!fields) return send_error(res, 503, kStoreUnavailable);
  send_json(res, 200, preferences_json(channels_, *fields));
}

}  // namespace gk

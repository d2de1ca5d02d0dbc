#pragma once

#include <functional>
#include <string>

#include <httplib.h>

#include "common/rules/channels.h"
#include "gatekeeper/management/status_service.h"

namespace gk {

// Wraps a handler with the API's authentication and request counting (HttpApi::route).
using RouteWrapper = std::function<httplib::Server::Handler(
    std::string name, std::function<void(const httplib::Request&, httplib::Response&)>)>;

// GET / PUT /users/{externalId}/topics/{topic} and GET /users/{externalId}/preferences
// (PROTOCOL.md 9, docs/API.md).
class TopicRoutes {
 public:
  TopicRoutes(const ChannelRegistry& channels, StatusService& status)
      : channels_(channels), status_(status) {}

  void register_routes(httplib::Server& server, const RouteWrapper& wrap);

 private:
  void get_topic(const httplib::Request& req, httplib::Response& res);
  void put_topic(const httplib::Request& req, httplib::Response& res);
  void get_preferences(const httplib::Request& req, httplib::Response& res);

  const ChannelRegistry& channels_;
  StatusService& status_;
};

}  // namespace gk

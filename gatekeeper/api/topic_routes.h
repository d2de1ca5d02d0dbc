#pragma once

#include <span>
#include <string>

#include <httplib.h>

#include "common/rules/channels.h"
#include "gatekeeper/http/api_route.h"
#include "gatekeeper/management/status_service.h"

namespace gk {

// GET / PUT /users/{externalId}/topics/{topic} and GET /users/{externalId}/preferences
// (PROTOCOL.md 9, docs/API.md).
class TopicRoutes {
 public:
  TopicRoutes(const ChannelRegistry& channels, StatusService& status)
      : channels_(channels), status_(status) {}

  // The routes this module serves; HttpApi registers them (and lists them in routes()).
  static std::span<const RouteSpec<TopicRoutes>> routes();

 private:
  void get_topic(const httplib::Request& req, httplib::Response& res);
  void put_topic(const httplib::Request& req, httplib::Response& res);
  void get_preferences(const httplib::Request& req, httplib::Response& res);

  const ChannelRegistry& channels_;
  StatusService& status_;
};

}  // namespace gk

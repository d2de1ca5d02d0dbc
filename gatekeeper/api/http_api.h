#pragma once

#include <memory>
#include <mutex>

#include <functional>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/config/config.h"
#include "common/rules/channels.h"
#include "gatekeeper/api/address_routes.h"
#include "gatekeeper/api/api_tokens.h"
#include "gatekeeper/api/bulk_routes.h"
#include "gatekeeper/api/erasure_routes.h"
#include "gatekeeper/api/topic_routes.h"
#include "gatekeeper/http/api_route.h"
#include "gatekeeper/links/link_routes.h"
#include "gatekeeper/management/bulk_service.h"
#include "gatekeeper/management/event_processor.h"
#include "gatekeeper/management/management_metrics.h"
#include "gatekeeper/management/status_service.h"

namespace gk {

// The platform-compatible HTTP API (PROTOCOL.md 7, docs/API.md): status reads and writes
// for full users, histories, and POST /events. Every route checks X-XNG-AuthToken and
// X-XNG-ApiVersion first; every answer is JSON, errors as {"error": ...}.
class HttpApi {
 public:
  // Reads the tokens (throws std::runtime_error when the token file cannot be read).
  HttpApi(const Config& config, const ChannelRegistry& channels, StatusService& status,
          EventProcessor& processor, ManagementMetrics& metrics);

  // The address and erasure routes' services; call before register_routes (without them
  // those routes answer 503). With erasure, a person's status reads answer 404 while they
  // are erased.
  void attach(AddressService* addresses, ErasureService* erasure) {
    address_routes_.attach(addresses);
    erasure_routes_.attach(erasure);
    erasure_ = erasure;
  }

  // Registers the routes; call before the server starts.
  void register_routes(httplib::Server& server);

  // Every route of the API, this class's and its modules' (topics, links, bulk), in one list:
  // what the server registers and what docs/openapi.yaml must describe.
  static const std::vector<ApiRoute>& routes();

  // Re-reads the tokens (SIGHUP); requests in flight finish with the set they started
  // with. Throws std::runtime_error like the constructor, and then the old set stays.
  void reload_tokens(const HttpConfig& config);

  using Handler = RouteHandler;
  // Wraps a route with authentication, the version check and the request counter.
  httplib::Server::Handler route(std::string name, Handler handler);
  // Registers a wrapped route and remembers it for the pre-routing token check.
  void add(httplib::Server& server, const std::string& method, const std::string& pattern,
           const std::string& name, Handler handler);

 private:
  static std::span<const RouteSpec<HttpApi>> own_routes();
  // Registers a public route (no token): counted, nothing else.
  void add_public(httplib::Server& server, const ApiRoute& r, Handler handler);

  void get_optout(const httplib::Request& req, httplib::Response& res);
  void put_optout(const httplib::Request& req, httplib::Response& res);
  void get_blacklist(const httplib::Request& req, httplib::Response& res);
  void put_blacklist(const httplib::Request& req, httplib::Response& res);
  void get_recipient(const httplib::Request& req, httplib::Response& res);
  void get_user_history(const httplib::Request& req, httplib::Response& res);
  void get_lead_history(const httplib::Request& req, httplib::Response& res);
  void post_events(const httplib::Request& req, httplib::Response& res);

  // The status field a `channelType` query names (absent = ALL); nullopt after a 400.
  std::optional<std::string> channel_param(const httplib::Request& req, httplib::Response& res);
  // A status read of an erased person (PROTOCOL.md 13) answers 404; true after answering
  // (404, or 503 when the store cannot tell).
  bool answered_erased(const std::string& route, const httplib::Request& req,
                       httplib::Response& res);
  // The user's hash; nullopt after a 503.
  std::optional<StatusService::Fields> read_user(const httplib::Request& req,
                                                 httplib::Response& res);
  // Writes one API change (time = receipt) and publishes its system event.
  void put_status(const httplib::Request& req, httplib::Response& res, const std::string& field,
                  const char* body_key, std::string_view on_event, std::string_view off_event);

  const Config& config_;
  const ChannelRegistry& channels_;
  StatusService& status_;
  EventProcessor& processor_;
  ManagementMetrics& metrics_;
  TopicRoutes topic_routes_;
  LinkRoutes link_routes_;
  BulkService bulk_;
  BulkRoutes bulk_routes_;
  AddressRoutes address_routes_;
  ErasureRoutes erasure_routes_;
  ErasureService* erasure_ = nullptr;
  std::shared_ptr<const ApiTokens> tokens() const;

  // The token-protected routes, as the pre-routing check matches them.
  struct GatedRoute {
    std::string method;
    std::regex pattern;
    std::string name;
  };
  std::vector<GatedRoute> gated_;

  mutable std::mutex tokens_mutex_;
  std::shared_ptr<const ApiTokens> tokens_;
};

}  // namespace gk

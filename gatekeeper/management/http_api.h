#pragma once

#include <memory>
#include <mutex>

#include <functional>
#include <optional>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/rules/channels.h"
#include "common/config/config.h"
#include "gatekeeper/management/api_tokens.h"
#include "gatekeeper/management/event_processor.h"
#include "gatekeeper/management/management_metrics.h"
#include "gatekeeper/management/status_service.h"

namespace gk {

class ErasureService;

// The platform-compatible HTTP API (PROTOCOL.md 7, docs/API.md): status reads and writes
// for full users, histories, and POST /events. Every route checks X-XNG-AuthToken and
// X-XNG-ApiVersion first; every answer is JSON, errors as {"error": ...}.
class HttpApi {
 public:
  // Reads the tokens (throws std::runtime_error when the token file cannot be read).
  HttpApi(const Config& config, const ChannelRegistry& channels, StatusService& status,
          EventProcessor& processor, ManagementMetrics& metrics);

  // Registers the routes; call before the server starts.
  void register_routes(httplib::Server& server);

  // Re-reads the tokens (SIGHUP); requests in flight finish with the set they started
  // with. Throws std::runtime_error like the constructor, and then the old set stays.
  void reload_tokens(const HttpConfig& config);

  // Status reads of an erased user answer 404; a PUT opting in lifts the erasure.
  void attach(ErasureService* erasure) { erasure_ = erasure; }

  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  // Wraps a route with authentication, the version check and the request counter (also for
  // the routes of address_routes.h).
  httplib::Server::Handler route(std::string name, Handler handler);

 private:

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
  // True after answering 404 (the user was erased) or 503.
  bool erased(const httplib::Request& req, httplib::Response& res);
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
  std::shared_ptr<const ApiTokens> tokens() const;

  ErasureService* erasure_ = nullptr;
  mutable std::mutex tokens_mutex_;
  std::shared_ptr<const ApiTokens> tokens_;
};

}  // namespace gk

#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/config/config.h"
#include "common/protocol/unsubscribe_token.h"
#include "common/rules/channels.h"
#include "gatekeeper/http/api_route.h"
#include "gatekeeper/management/status_service.h"

namespace gk {

// The largest body the public /u/ endpoints read (PROTOCOL.md 10).
inline constexpr std::size_t kMaxLinkBodyBytes = 64 * 1024;
// The most links one POST /unsubscribe-links issues.
inline constexpr std::size_t kMaxLinksPerCall = 1000;

// Reads the secrets of [unsubscribe] (inline or from secrets_file, one per line, # comments).
// Throws std::runtime_error naming what is wrong.
std::vector<std::string> load_link_secrets(const UnsubscribeConfig& config);

// One-click unsubscribe links (PROTOCOL.md 10, docs/API.md): POST /unsubscribe-links (API
// token) issues them; GET / HEAD /u/<token> shows the preference page and changes nothing;
// POST /u/<token> with List-Unsubscribe=One-Click leaves the link's scope; POST
// /u/<token>/preferences applies the page's form. The /u/ routes need no token: they are
// meant to be reachable from the internet, so their bodies are small and every answer is
// an escaped HTML page.
class LinkRoutes {
 public:
  // Throws std::runtime_error when links are configured and the secrets cannot be read.
  LinkRoutes(const Config& config, const ChannelRegistry& channels, StatusService& status);

  // The routes this module serves; HttpApi registers them (and lists them in routes()).
  static std::span<const RouteSpec<LinkRoutes>> routes();

  // One item of POST /unsubscribe-links: its token, or "" with `error` saying why not.
  // `now` is the issue time.
  std::string issue(const nlohmann::json& item, EpochMs now, std::string& error) const;

 private:
  void post_links(const httplib::Request& req, httplib::Response& res);
  void get_page(const httplib::Request& req, httplib::Response& res);
  void post_one_click(const httplib::Request& req, httplib::Response& res);
  void post_preferences(const httplib::Request& req, httplib::Response& res);

  // Opens the path's token; on failure answers the 400 / 404 / 410 page and returns nullopt.
  std::optional<LinkPayload> open(const httplib::Request& req, httplib::Response& res) const;
  // The status field the link leaves ("" after a 404 page: its topic or channel is gone).
  std::string scope_field(const LinkPayload& link) const;

  const Config& config_;
  const ChannelRegistry& channels_;
  StatusService& status_;
  std::unique_ptr<TokenCodec> codec_;  // null: links not configured
};

}  // namespace gk

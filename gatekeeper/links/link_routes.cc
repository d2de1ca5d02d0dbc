#include "gatekeeper/links/link_routes.h"

#include <fstream>
#include <map>
#include <stdexcept>

#include "common/protocol/events.h"
#include "common/protocol/system_event.h"
#include "common/rules/identity.h"
#include "common/util/timestamp.h"
#include "gatekeeper/http/http_server.h"
#include "gatekeeper/links/preference_page.h"
#include "gatekeeper/management/preferences.h"

namespace gk {

namespace {

using nlohmann::json;

constexpr std::string_view kOneClickKey = "List-Unsubscribe";
constexpr std::string_view kOneClickValue = "One-Click";

void html(httplib::Response& res, int status, std::string body) {
  res.status = status;
  // The token is in the URL: no referrer leaves it elsewhere, no cache keeps the page.
  res.set_header("Cache-Control", "no-store");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                 "frame-ancestors 'none'");
  res.set_content(std::move(body), "text/html; charset=utf-8");
}

void page(httplib::Response& res, int status, std::string_view title, std::string_view text) {
  html(res, status, message_page(title, text));
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string form_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() + 0 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The body's form fields, urlencoded or multipart; never the query string, so a link with
// ?List-Unsubscribe=One-Click in it cannot stand in for the body a mail client sends.
std::multimap<std::string, std::string> form_fields(const httplib::Request& req) {
  std::multimap<std::string, std::string> out;
  if (req.is_multipart_form_data()) {
    for (const auto& [name, file] : req.files) out.emplace(name, file.content);
    return out;
  }
  std::string_view body(req.body);
  while (!body.empty() && (body.back() == '\r' || body.back() == '\n' || body.back() == ' ')) {
    body.remove_suffix(1);
  }
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    const auto eq = pair.find('=');
    out.emplace(form_decode(pair.substr(0, eq)),
                eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<std::string> string_field(const json& obj, const char* key, std::string& error) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    error = std::string("user.") + key + " must be a string";
    return std::nullopt;
  }
  return it->get<std::string>();
}

}  // namespace

std::vector<std::string> load_link_secrets(const UnsubscribeConfig& config) {
  if (config.secrets_file.empty()) return config.secrets;
  std::ifstream in(config.secrets_file);
  if (!in) throw std::runtime_error("cannot read unsubscribe.secrets_file " + config.secrets_file);
  std::vector<std::string> secrets;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    if (line.size() < 32) {
      throw std::runtime_error("unsubscribe.secrets_file " + config.secrets_file +
                               ": a secret needs at least 32 characters");
    }
    secrets.push_back(line);
  }
  if (secrets.empty()) {
    throw std::runtime_error("unsubscribe.secrets_file " + config.secrets_file +
                             " holds no secret");
  }
  return secrets;
}

LinkRoutes::LinkRoutes(const Config& config, const ChannelRegistry& channels, StatusService& status)
    : config_(config), channels_(channels), status_(status) {
  if (config.unsubscribe.enabled()) {
    codec_ = std::make_unique<TokenCodec>(load_link_secrets(config.unsubscribe));
  }
}

std::span<const RouteSpec<LinkRoutes>> LinkRoutes::routes() {
  // The /u/ pages are public: whoever holds the link may use it (PROTOCOL.md 10).
  static constexpr RouteSpec<LinkRoutes> kRoutes[] = {
      {{"POST", "/unsubscribe-links", "/unsubscribe-links"}, &LinkRoutes::post_links},
      {{"GET", "/u/{token}", R"(/u/([^/]*))", false}, &LinkRoutes::get_page},
      {{"POST", "/u/{token}", R"(/u/([^/]*))", false}, &LinkRoutes::post_one_click},
      {{"POST", "/u/{token}/preferences", R"(/u/([^/]*)/preferences)", false},
       &LinkRoutes::post_preferences},
  };
  return kRoutes;
}

std::string LinkRoutes::issue(const json& item, EpochMs now, std::string& error) const {
  auto fail = [&error](std::string message) {
    error = std::move(message);
    return std::string();
  };
  if (!item.is_object()) return fail("a link item must be an object");
  const auto user = item.find("user");
  if (user == item.end() || !user->is_object()) return fail("user must be an object");
  LinkPayload p;
  const auto id = string_field(*user, "id", error);
  const auto email = string_field(*user, "email", error);
  const auto bu = string_field(*user, "bu", error);
  if (!id || !email || !bu) return std::string();
  if (id->empty() && email->empty()) return fail("user has neither id nor email");
  // The identity rules of every entry point (common/rules/identity.h), so a link names the
  // person the way message headers and events do.
  if (auto problem = business_unit_problem(*bu); !problem.empty()) {
    return fail("user.bu " + std::string(problem));
  }
  if (!id->empty()) {
    if (auto problem = external_id_problem(*id); !problem.empty()) {
      return fail("user.id " + std::string(problem));
    }
  }
  if (!email->empty()) {
    if (auto problem = email_problem(*email); !problem.empty()) {
      return fail("user.email " + std::string(problem));
    }
  }
  p.external_id = *id;
  p.email = email->empty() ? std::string() : normalize_email(*email);
  p.bu = *bu;
  p.issued = now;

  const bool has_channel = item.contains("channel");
  const bool has_topic = item.contains("topic");
  const bool has_all = item.contains("all");
  if (int(has_channel) + int(has_topic) + int(has_all) != 1) {
    return fail("give exactly one scope: channel, topic or all");
  }
  if (has_channel) {
    const json& c = item["channel"];
    if (!c.is_string()) return fail("channel must be a string");
    const auto name = c.get<std::string>();
    if (iequals(name, kAllChannel)) {
      p.scope = LinkScope::kAll;
    } else if (const auto index = channels_.find_type(name)) {
      p.scope = LinkScope::kChannel;
      p.name = channels_.name(*index);
    } else {
      return fail("unknown channel '" + name + "'");
    }
  } else if (has_topic) {
    const json& t = item["topic"];
    if (!t.is_string()) return fail("topic must be a string");
    const auto name = t.get<std::string>();
    const auto index = channels_.topics().find(name);
    if (!index) return fail("unknown topic '" + name + "'");
    if (channels_.topics().at(*index).policy == TopicDefault::kRequired) {
      return fail("topic '" + channels_.topics().at(*index).name +
                  "' is required: nobody can leave it");
    }
    p.scope = LinkScope::kTopic;
    p.name = channels_.topics().at(*index).name;
  } else {
    if (item["all"] != true) return fail("all must be true");
    p.scope = LinkScope::kAll;
  }
  std::string token = codec_->seal(p);
  if (token.empty()) return fail("user is too long to fit in a link");
  return token;
}

void LinkRoutes::post_links(const httplib::Request& req, httplib::Response& res) {
  if (!codec_) return send_error(res, 404, "unsubscribe links are not configured ([unsubscribe])");
  if (req.body.size() > config_.http.max_body_bytes) {
    return send_error(res, 413, "request body too large");
  }
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return send_error(res, 400, "body must be a JSON object {\"links\": [...]}");
  }
  const auto links = body.find("links");
  if (links == body.end() || !links->is_array()) {
    return send_error(res, 400, "links must be a list");
  }
  if (links->size() > kMaxLinksPerCall) {
    return send_error(res, 413,
                      "at most " + std::to_string(kMaxLinksPerCall) + " links per call, got " +
                          std::to_string(links->size()));
  }
  const EpochMs now = now_ms();
  // The answer is written as text: a thousand small JSON objects built and dumped would cost
  // more than sealing the tokens. Tokens are base64url and need no escaping; the base URL
  // is escaped once.
  std::string prefix = safe_dump(json(config_.unsubscribe.base_url + "/u/"));
  prefix.pop_back();  // keep the opening quote, drop the closing one
  const std::string_view inner = std::string_view(prefix).substr(1);
  std::string out;
  out.reserve(32 + links->size() * (3 * inner.size() + 400));
  out += "{\"links\":[";
  std::string error;
  for (std::size_t i = 0; i < links->size(); ++i) {
    if (i > 0) out += ',';
    error.clear();
    const std::string token = issue((*links)[i], now, error);
    if (token.empty()) {
      out += safe_dump(json{{"error", error}});
      continue;
    }
    out.append("{\"url\":").append(prefix).append(token);
    out.append("\",\"List-Unsubscribe\":\"<").append(inner).append(token);
    out.append(">\",\"List-Unsubscribe-Post\":\"List-Unsubscribe=One-Click\"}");
  }
  out += "]}";
  res.status = 200;
  res.set_content(std::move(out), "application/json");
}

std::optional<LinkPayload> LinkRoutes::open(const httplib::Request& req,
                                            httplib::Response& res) const {
  if (!codec_) {
    page(res, 404, "Link not found", "This link is not known here.");
    return std::nullopt;
  }
  if (req.body.size() > kMaxLinkBodyBytes) {
    page(res, 413, "Request too large", "The request body is too large.");
    return std::nullopt;
  }
  LinkPayload link;
  switch (codec_->open(req.matches[1].str(), link)) {
    case TokenStatus::kMalformed:
      page(res, 400, "Invalid link",
           "This link is not valid. Please copy the whole link from the message.");
      return std::nullopt;
    case TokenStatus::kInvalid:
      page(res, 404, "Link not found", "This link is not known here.");
      return std::nullopt;
    case TokenStatus::kOk:
      break;
  }
  const EpochMs ttl = static_cast<EpochMs>(config_.unsubscribe.link_ttl_days) * 86'400'000;
  if (now_ms() > link.issued + ttl) {
    page(res, 410, "Link expired",
         "This link has expired. Please use the link in a more recent message.");
    return std::nullopt;
  }
  if (scope_field(link).empty() && link.scope != LinkScope::kAll) {
    page(res, 404, "Link not found", "What this link unsubscribes from no longer exists.");
    return std::nullopt;
  }
  // An erased person is unknown here (PROTOCOL.md 13): the page would show and write them.
  const auto erased = status_.erased(link.bu, link.external_id, link.email);
  if (!erased) {
    page(res, 503, "Try again later", "Please try again in a minute.");
    return std::nullopt;
  }
  if (*erased) {
    page(res, 404, "Link not found", "This link is not known here.");
    return std::nullopt;
  }
  return link;
}

std::string LinkRoutes::scope_field(const LinkPayload& link) const {
  switch (link.scope) {
    case LinkScope::kAll:
      return std::string(kAllChannel);
    case LinkScope::kChannel:
      if (const auto i = channels_.find_type(link.name)) return channels_.name(*i);
      return {};
    case LinkScope::kTopic:
      if (const auto i = channels_.topics().find(link.name)) {
        if (channels_.topics().at(*i).policy != TopicDefault::kRequired) {
          return channels_.topics().field(*i);
        }
      }
      return {};
  }
  return {};
}

void LinkRoutes::get_page(const httplib::Request& req, httplib::Response& res) {
  const auto link = open(req, res);
  if (!link) return;
  const auto fields = status_.read_person(link->bu, link->external_id, link->email);
  if (!fields) return page(res, 503, "Try again later", "Please try again in a minute.");
  html(res, 200, preference_page(channels_, *link, req.matches[1].str(), *fields, ""));
}

void LinkRoutes::post_one_click(const httplib::Request& req, httplib::Response& res) {
  const auto link = open(req, res);
  if (!link) return;
  const auto fields = form_fields(req);
  const auto it = fields.find(std::string(kOneClickKey));
  if (it == fields.end() || it->second != kOneClickValue) {
    return page(res, 400, "Nothing changed",
                "This address takes the one-click form List-Unsubscribe=One-Click; open the "
                "link in a browser to change your preferences.");
  }
  const std::string field = scope_field(*link);
  const auto stored = status_.read_person(link->bu, link->external_id, link->email);
  if (!stored) return page(res, 503, "Try again later", "Please try again in a minute.");
  // Repeating the POST (mail clients retry) changes nothing more, not even the history.
  if (!stored_flag(*stored, field)) {
    if (!status_.apply(change_now(link->bu, link->external_id, link->email, field, true,
                                  "one_click", kOptOutEvent))) {
      return page(res, 503, "Try again later", "Please try again in a minute.");
    }
  }
  page(res, 200, "Unsubscribed",
       "You are unsubscribed from " + describe_scope(*link) +
           ". It can take a moment for "
           "messages already on their way.");
}

void LinkRoutes::post_preferences(const httplib::Request& req, httplib::Response& res) {
  const auto link = open(req, res);
  if (!link) return;
  const auto form = form_fields(req);
  const auto marker = form.find("form");
  if (marker == form.end() || marker->second != "preferences") {
    return page(res, 400, "Nothing changed", "The preference form was not sent.");
  }
  const auto fields = status_.read_person(link->bu, link->external_id, link->email);
  if (!fields) return page(res, 503, "Try again later", "Please try again in a minute.");
  // Only what differs from the stored state is written, so saving an unchanged form leaves
  // no trace in the history. A checked box means "receive it".
  std::vector<std::pair<std::string, bool>> changes;  // field, opted out
  auto wants = [&](const std::string& name) { return form.count(name) > 0; };
  if (wants("all") == stored_flag(*fields, kAllChannel)) {
    changes.emplace_back(std::string(kAllChannel), !wants("all"));
  }
  for (std::size_t i = 0; i < channels_.routable_count(); ++i) {
    const std::string& name = channels_.name(i);
    const bool receive = wants("channel:" + name);
    if (receive == stored_flag(*fields, name)) changes.emplace_back(name, !receive);
  }
  const TopicRegistry& topics = channels_.topics();
  for (std::size_t i = 0; i < topics.size(); ++i) {
    if (topics.at(i).policy == TopicDefault::kRequired) continue;
    const bool receive = wants("topic:" + topics.at(i).name);
    if (receive != topic_state(topics.at(i), *fields).subscribed) {
      changes.emplace_back(topics.field(i), !receive);
    }
  }
  for (const auto& [field, value] : changes) {
    if (!status_.apply(change_now(link->bu, link->external_id, link->email, field, value,
                                  "preferences", value ? kOptOutEvent : kOptInEvent))) {
      return page(res, 503, "Try again later", "Please try again in a minute.");
    }
  }
  const auto after = status_.read_person(link->bu, link->external_id, link->email);
  if (!after) return page(res, 503, "Try again later", "Please try again in a minute.");
  html(res, 200,
       preference_page(channels_, *link, req.matches[1].str(), *after,
                       changes.empty() ? "Nothing to change." : "Your preferences were saved."));
}

}  // namespace gk

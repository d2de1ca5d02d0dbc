#include "gatekeeper/api/erasure_routes.h"

#include "common/protocol/system_event.h"
#include "common/rules/address.h"
#include "common/rules/identity.h"
#include "gatekeeper/api/request_params.h"
#include "gatekeeper/http/http_server.h"

namespace gk {

namespace {

using nlohmann::json;

// Every value of a repeatable query parameter, from the URL only (see query_param).
std::vector<std::string> query_params(const httplib::Request& req, const std::string& key) {
  std::vector<std::string> out;
  const std::size_t mark = req.target.find('?');
  if (mark == std::string::npos) return out;
  httplib::Params params;
  httplib::detail::parse_query_text(req.target.substr(mark + 1), params);
  const auto range = params.equal_range(key);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

void answer(httplib::Response& res, const Result<ErasureService::Erased>& erased) {
  if (!erased) return send_error(res, 503, "status store unavailable");
  res.status = 200;
  res.set_content(safe_dump({{"erased", true},
                             {"keysDeleted", erased->keys_deleted},
                             {"streamEntriesDeleted", erased->stream_entries_deleted},
                             {"historyEntriesDeleted", erased->history_entries_deleted},
                             {"tombstones", erased->tombstones}}),
                  "application/json");
}

// The extra emails must be emails and the phones phone numbers; true after a 400.
bool invalid_addresses(httplib::Response& res, const std::vector<std::string>& emails,
                       const std::vector<std::string>& phones) {
  for (const std::string& e : emails) {
    if (refuse(res, "email", email_problem(e))) return true;
  }
  for (const std::string& p : phones) {
    if (const std::string problem = address_problem("SMS", p); !problem.empty()) {
      send_error(res, 400, "phone: " + problem);
      return true;
    }
  }
  return false;
}

}  // namespace

std::span<const RouteSpec<ErasureRoutes>> ErasureRoutes::routes() {
  static constexpr RouteSpec<ErasureRoutes> kRoutes[] = {
      {{"DELETE", "/users/{externalId}", R"(/users/(.+))"}, &ErasureRoutes::delete_user},
      {{"DELETE", "/leads", "/leads"}, &ErasureRoutes::delete_lead},
  };
  return kRoutes;
}

bool ErasureRoutes::available(httplib::Response& res) const {
  if (erasure_ != nullptr && erasure_->enabled()) return true;
  send_error(res, 503, "erasure is off: set erasure.salt (at least 32 characters) in the config");
  return false;
}

void ErasureRoutes::delete_user(const httplib::Request& req, httplib::Response& res) {
  if (invalid_user(req, res) || !available(res)) return;
  const auto emails = query_params(req, "email");
  const auto phones = query_params(req, "phone");
  if (invalid_addresses(res, emails, phones)) return;
  answer(res, erasure_->erase_user(business_unit(req), path_id(req), emails, phones));
}

void ErasureRoutes::delete_lead(const httplib::Request& req, httplib::Response& res) {
  if (refuse(res, "businessUnit", business_unit_problem(business_unit(req)))) return;
  const auto email = query_param(req, "email");
  if (!email || email->empty()) return send_error(res, 400, "query parameter email is missing");
  if (refuse(res, "email", email_problem(*email))) return;
  if (!available(res)) return;
  const auto phones = query_params(req, "phone");
  if (invalid_addresses(res, {}, phones)) return;
  answer(res, erasure_->erase_lead(business_unit(req), normalize_email(*email), phones));
}

}  // namespace gk

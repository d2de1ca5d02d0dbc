#include "gatekeeper/api/request_params.h"

#include "common/protocol/system_event.h"
#include "common/rules/identity.h"

namespace gk {

nlohmann::json error_body(const FieldError& e) {
  return {{"error", e.message}, {"field", e.field}, {"type", std::string(to_string(e.type))}};
}

std::optional<std::string> query_param(const httplib::Request& req, const std::string& key) {
  const std::size_t mark = req.target.find('?');
  if (mark == std::string::npos) return std::nullopt;
  httplib::Params params;
  httplib::detail::parse_query_text(req.target.substr(mark + 1), params);
  const auto it = params.find(key);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

std::string business_unit(const httplib::Request& req) {
  return query_param(req, "businessUnit").value_or(std::string());
}

std::string path_id(const httplib::Request& req) {
  return req.matches.size() > 1 ? req.matches[1].str() : std::string();
}

bool refuse(httplib::Response& res, const char* field, std::string_view problem) {
  if (problem.empty()) return false;
  res.status = 400;
  res.set_content(safe_dump(error_body({field, ErrorType::kInvalidValue,
                                        std::string(field) + " " + std::string(problem)})),
                  "application/json");
  return true;
}

bool invalid_user(const httplib::Request& req, httplib::Response& res) {
  return refuse(res, "businessUnit", business_unit_problem(business_unit(req))) ||
         refuse(res, "externalId", external_id_problem(path_id(req)));
}

}  // namespace gk

#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/protocol/events.h"

namespace gk {

// The error shape of the platform's API: what is wrong, which key, which kind of problem.
nlohmann::json error_body(const FieldError& e);

// A parameter of the URL's query. Only the URL counts: httplib also merges the parameters
// of a form-encoded body into req.params, which would let a body override the business
// unit or channel the URL names (and `curl -d '{json}'` sends JSON labelled as a form).
std::optional<std::string> query_param(const httplib::Request& req, const std::string& key);

// The `businessUnit` query parameter ("" when absent).
std::string business_unit(const httplib::Request& req);

// The path's first capture: the external id (it may contain '/', the pattern is greedy).
std::string path_id(const httplib::Request& req);

// The rules of common/rules/identity.h; answers a 400 naming the field when `problem` is
// set, and returns whether it did.
bool refuse(httplib::Response& res, const char* field, std::string_view problem);

// A user's path id and businessUnit, checked before any key is built from them; true after
// a 400.
bool invalid_user(const httplib::Request& req, httplib::Response& res);

}  // namespace gk

#pragma once

#include <span>

#include <httplib.h>

#include "gatekeeper/http/api_route.h"
#include "gatekeeper/management/erasure_service.h"

namespace gk {

// DELETE /users/{externalId} and DELETE /leads?email=&businessUnit= (PROTOCOL.md 13,
// docs/API.md): erasure. Both take further `email` and `phone` query parameters (repeatable)
// naming addresses of the person the store does not link to them. Without erasure.salt
// they answer 503.
class ErasureRoutes {
 public:
  void attach(ErasureService* erasure) { erasure_ = erasure; }

  // The routes this module serves; HttpApi registers them (and lists them in routes()).
  static std::span<const RouteSpec<ErasureRoutes>> routes();

 private:
  void delete_user(const httplib::Request& req, httplib::Response& res);
  void delete_lead(const httplib::Request& req, httplib::Response& res);
  // False after a 503 (no erasure configured).
  bool available(httplib::Response& res) const;

  ErasureService* erasure_ = nullptr;
};

}  // namespace gk

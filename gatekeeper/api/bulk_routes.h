#pragma once

#include <span>

#include <httplib.h>

#include "gatekeeper/http/api_route.h"
#include "gatekeeper/management/bulk_service.h"

namespace gk {

// POST /import and GET /export: the bulk CSV of PROTOCOL.md 12 (docs/API.md), what
// `gatekeeper-ctl import` and `export` call.
class BulkRoutes {
 public:
  explicit BulkRoutes(BulkService& bulk) : bulk_(bulk) {}

  // The routes this module serves; HttpApi registers them (and lists them in routes()).
  static std::span<const RouteSpec<BulkRoutes>> routes();

 private:
  void post_import(const httplib::Request& req, httplib::Response& res);
  void get_export(const httplib::Request& req, httplib::Response& res);

  BulkService& bulk_;
};

}  // namespace gk

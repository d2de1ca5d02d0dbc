#pragma once

#include <httplib.h>

#include "gatekeeper/management/address_service.h"
#include "gatekeeper/management/bulk.h"
#include "gatekeeper/management/erasure.h"
#include "gatekeeper/management/http_api.h"

namespace gk {

// The routes of PROTOCOL.md 11-13 (docs/API.md): /addresses, erasure (DELETE /users/{id},
// DELETE /leads), and the bulk routes gatekeeper-ctl import / export use (POST /import,
// GET /export). Authenticated like every API route (HttpApi::route).
class AddressRoutes {
 public:
  AddressRoutes(const Config& config, AddressService& addresses, ErasureService& erasure,
                BulkService& bulk)
      : config_(config), addresses_(addresses), erasure_(erasure), bulk_(bulk) {}

  void register_routes(httplib::Server& server, HttpApi& api);

 private:
  void get_address(const httplib::Request& req, httplib::Response& res);
  void put_address(const httplib::Request& req, httplib::Response& res);
  void delete_user(const httplib::Request& req, httplib::Response& res);
  void delete_lead(const httplib::Request& req, httplib::Response& res);
  void post_import(const httplib::Request& req, httplib::Response& res);
  void get_export(const httplib::Request& req, httplib::Response& res);
  // The channel and stored address of the path; false after a 400 / 404.
  bool address_of(const httplib::Request& req, httplib::Response& res, std::string& channel,
                  std::string& address);
  void erased(httplib::Response& res, const std::optional<ErasureService::Result>& result);

  const Config& config_;
  AddressService& addresses_;
  ErasureService& erasure_;
  BulkService& bulk_;
};

}  // namespace gk

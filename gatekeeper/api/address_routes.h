#pragma once

#include <span>

#include <httplib.h>

#include "gatekeeper/http/api_route.h"
#include "gatekeeper/management/address_service.h"

namespace gk {

// GET / PUT /addresses/{channel}/{address} (PROTOCOL.md 11, docs/API.md): address
// suppressions. Without an AddressService attached every route answers 503.
class AddressRoutes {
 public:
  void attach(AddressService* addresses) { addresses_ = addresses; }

  // The routes this module serves; HttpApi registers them (and lists them in routes()).
  static std::span<const RouteSpec<AddressRoutes>> routes();

 private:
  void get_address(const httplib::Request& req, httplib::Response& res);
  void put_address(const httplib::Request& req, httplib::Response& res);
  // The canonical channel and the stored form of the path's address; false after a 4xx.
  bool address_of(const httplib::Request& req, httplib::Response& res, std::string& channel,
                  std::string& address);

  AddressService* addresses_ = nullptr;
};

}  // namespace gk

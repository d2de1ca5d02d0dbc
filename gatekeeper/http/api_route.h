#pragma once

#include <functional>
#include <span>
#include <string_view>

#include <httplib.h>

namespace gk {

// One route of the HTTP API: its method, its path as docs/openapi.yaml writes it and the
// pattern httplib matches. Token routes are checked by HttpApi's pre-routing gate before
// any body is read; public ones (the /u/ link pages) are meant for anyone with the link.
struct ApiRoute {
  std::string_view method;
  std::string_view path;
  std::string_view pattern;
  bool needs_token = true;
};

using RouteHandler = std::function<void(const httplib::Request&, httplib::Response&)>;

// Registers one route's handler (HttpApi supplies it: gate, version check, counting).
using RouteAdder = std::function<void(const ApiRoute&, RouteHandler)>;

// A route of one module and the member that serves it; each module keeps one static table
// of these, and HttpApi::routes() lists them all.
template <class Owner>
struct RouteSpec {
  ApiRoute route;
  void (Owner::*serve)(const httplib::Request&, httplib::Response&);
};

// Hands every route of `table` to `add`, served by `owner`.
template <class Owner>
void add_routes(Owner& owner, std::span<const RouteSpec<Owner>> table, const RouteAdder& add) {
  for (const RouteSpec<Owner>& r : table) {
    add(r.route, [&owner, serve = r.serve](const httplib::Request& req, httplib::Response& res) {
      (owner.*serve)(req, res);
    });
  }
}

}  // namespace gk

// docs/openapi.yaml and the server's own route list describe the same API.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "gatekeeper/api/http_api.h"
#include "gatekeeper/http/http_server.h"
#include "tests/support/openapi.h"

using namespace gk;

TEST_CASE("openapi: every route the server answers is described, and nothing else",
          "[openapi][docs]") {
  std::set<std::string> served;
  for (const auto& r : HttpApi::routes()) {
    served.insert(std::string(r.method) + " " + std::string(r.path));
  }
  for (const auto path : HttpServer::kProbePaths) served.insert("GET " + std::string(path));

  std::set<std::string> described;
  for (const auto& op : test::openapi_operations()) {
    INFO(op.method << " " << op.path);
    CHECK_FALSE(op.statuses.empty());
    described.insert(op.method + " " + op.path);
  }
  for (const auto& route : served) {
    INFO("served but not in docs/openapi.yaml: " << route);
    CHECK(described.count(route) == 1);
  }
  for (const auto& route : described) {
    INFO("in docs/openapi.yaml but not served: " << route);
    CHECK(served.count(route) == 1);
  }
}

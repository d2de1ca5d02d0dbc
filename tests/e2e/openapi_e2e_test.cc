// Every operation docs/openapi.yaml describes answers through the built binary, with one
// of the status codes it documents for that operation.
#include <httplib.h>
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "tests/support/gatekeeper_process.h"
#include "tests/support/openapi.h"
#include "tests/support/redis_server.h"

using namespace gk::test;

namespace {

// A concrete request for a documented path: parameters filled in, a valid body.
struct Probe {
  std::string target;
  std::string body;
};

Probe probe_for(const OpenApiOperation& op) {
  Probe p{op.path, ""};
  const auto at = p.target.find("{externalId}");
  if (at != std::string::npos) p.target.replace(at, 12, "openapi-probe");
  if (op.path == "/leads/optout-history") p.target += "?email=probe%40example.com";
  if (op.method == "PUT" && op.path.find("blacklist") != std::string::npos) {
    p.body = R"({"blacklisted": false})";
  } else if (op.method == "PUT") {
    p.body = R"({"optOut": false})";
  } else if (op.path == "/events") {
    p.body = R"({"id": "openapi-probe", "events": [{"event": "Page Viewed"}]})";
  }
  return p;
}

}  // namespace

TEST_CASE("openapi: every described operation answers with a documented status", "[e2e][openapi]") {
  RedisServer redis;
  GatekeeperOptions opts;
  opts.redis_port = redis.port();
  GatekeeperProcess gk(opts);
  REQUIRE(gk.wait_ready());
  httplib::Client client("127.0.0.1", opts.http_port);
  const httplib::Headers headers = {{"X-XNG-AuthToken", opts.auth_token}};

  const auto operations = openapi_operations();
  REQUIRE(operations.size() >= 11);
  for (const auto& op : operations) {
    const Probe p = probe_for(op);
    INFO(op.method << " " << p.target);
    auto res = [&] {
      if (op.method == "PUT") {
        return client.Put(p.target.c_str(), headers, p.body, "application/json");
      }
      if (op.method == "POST") {
        return client.Post(p.target.c_str(), headers, p.body, "application/json");
      }
      return client.Get(p.target.c_str(), headers);
    }();
    CHECK((op.method == "GET" || op.method == "PUT" || op.method == "POST"));
    REQUIRE(res);
    INFO("answer " << res->status << ": " << res->body);
    CHECK(op.statuses.count(res->status) == 1);
    CHECK(res->status < 300);
  }
}

// Every operation docs/openapi.yaml describes answers through the built binary, with one
// of the status codes it documents for that operation.
#include <httplib.h>
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tests/support/gatekeeper_process.h"
#include "tests/support/openapi.h"
#include "tests/support/redis_server.h"

using namespace gk::test;

namespace {

// A concrete request for a documented path: parameters filled in, a valid body.
struct Probe {
  std::string target;
  std::string body;
  std::string type;
};

// A topic and links, so the routes of PROTOCOL.md 9 and 10 have something to answer.
constexpr const char* kTopicsAndLinks = R"(
[topics.news]

[unsubscribe]
base_url = "https://mail.example.com/gk"
secrets = ["an openapi probe secret of thirty-two characters or more"]

[erasure]
salt = "an openapi probe salt of thirty-two characters or more"
)";

void replace(std::string& s, std::string_view from, std::string_view to) {
  const auto at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
}

// `token` is a link issued for openapi-probe (its path after base_url: /u/<token>).
Probe probe_for(const OpenApiOperation& op, const std::string& token) {
  Probe p{op.path, "", "application/json"};
  // The erasure probe erases someone else than the person the other probes read.
  replace(p.target, "{externalId}", op.method == "DELETE" ? "openapi-erased" : "openapi-probe");
  replace(p.target, "{channel}", "MAIL");
  replace(p.target, "{address}", "probe@example.com");
  if (op.path == "/leads") p.target += "?email=erased%40example.com";
  replace(p.target, "{topic}", "news");
  replace(p.target, "{token}", token);
  if (op.path == "/leads/optout-history") p.target += "?email=probe%40example.com";
  if (op.method == "PUT" && op.path.find("blacklist") != std::string::npos) {
    p.body = R"({"blacklisted": false})";
  } else if (op.method == "PUT" && op.path.find("/addresses/") == 0) {
    p.body = R"({"suppressed": false})";
  } else if (op.method == "PUT" && op.path.find("topics") != std::string::npos) {
    p.body = R"({"subscribed": true})";
  } else if (op.method == "PUT") {
    p.body = R"({"optOut": false})";
  } else if (op.path == "/events") {
    p.body = R"({"id": "openapi-probe", "events": [{"event": "Page Viewed"}]})";
  } else if (op.path == "/unsubscribe-links") {
    p.body = R"({"links": [{"user": {"id": "openapi-probe"}, "topic": "news"}]})";
  } else if (op.path == "/u/{token}" && op.method == "POST") {
    p.body = "List-Unsubscribe=One-Click";
    p.type = "application/x-www-form-urlencoded";
  } else if (op.path == "/import") {
    p.body = "user,,openapi-probe,MAIL,0,1,\n";
    p.type = "text/csv";
  } else if (op.path == "/u/{token}/preferences") {
    p.body = "form=preferences&topic%3Anews=on";
    p.type = "application/x-www-form-urlencoded";
  }
  return p;
}

}  // namespace

TEST_CASE("openapi: every described operation answers with a documented status", "[e2e][openapi]") {
  RedisServer redis;
  GatekeeperOptions opts;
  opts.redis_port = redis.port();
  opts.extra_toml = kTopicsAndLinks;
  GatekeeperProcess gk(opts);
  REQUIRE(gk.wait_ready());
  httplib::Client client("127.0.0.1", opts.http_port);
  const httplib::Headers headers = {{"X-XNG-AuthToken", opts.auth_token}};

  const auto issued = client.Post("/unsubscribe-links", headers,
                                  R"({"links": [{"user": {"id": "openapi-probe"}, "all": true}]})",
                                  "application/json");
  REQUIRE(issued);
  REQUIRE(issued->status == 200);
  const std::string url = nlohmann::json::parse(issued->body)["links"][0]["url"];
  const std::string prefix = "https://mail.example.com/gk/u/";
  REQUIRE(url.rfind(prefix, 0) == 0);
  const std::string token = url.substr(prefix.size());

  const auto operations = openapi_operations();
  REQUIRE(operations.size() >= 18);
  for (const auto& op : operations) {
    const Probe p = probe_for(op, token);
    INFO(op.method << " " << p.target);
    auto send = [&]() -> httplib::Result {
      if (op.method == "GET") return client.Get(p.target.c_str(), headers);
      if (op.method == "PUT") return client.Put(p.target.c_str(), headers, p.body, p.type.c_str());
      if (op.method == "DELETE") return client.Delete(p.target.c_str(), headers);
      if (op.method != "POST") FAIL("no probe for method " << op.method);
      return client.Post(p.target.c_str(), headers, p.body, p.type.c_str());
    };
    const httplib::Result res = send();
    REQUIRE(res);
    INFO("answer " << res->status << ": " << res->body);
    CHECK(op.statuses.count(res->status) == 1);
    CHECK(res->status < 300);
  }
}

// Through the built binary: a message naming its channel by an alias (EMAIL for MAIL) obeys
// the person's ALL opt-out exactly as one naming MAIL does.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/support/rig.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("e2e: an ALL opt-out suppresses messages that name the channel by an alias",
          "[e2e][alias]") {
  Rig rig;
  rig.redis.hset("gk:u::all-out", "ALL", "1");
  rig.redis.hset("gk:l:bu1:lead@example.com", "ALL", "1");
  rig.start();

  const json rt = {{"type", "realtime"}, {"transactional", true}};
  const json batch = {{"type", "batch"}, {"transactional", false}};
  struct Case {
    std::string id;
    std::string channel;
    json user;
    json extra;
    std::string expect;
  };
  const json lead = {{"email", "Lead@Example.com"}, {"bu", "bu1"}};
  const std::vector<Case> cases = {
      {"alias", "EMAIL", {{"id", "all-out"}}, {}, "suppressed/opt_out:ALL"},
      {"alias-lower", "email", {{"id", "all-out"}}, {}, "suppressed/opt_out:ALL"},
      {"alias-batch",
       "Email",
       {{"id", "all-out"}},
       {{"campaign", batch}},
       "suppressed/opt_out:ALL"},
      {"alias-lead", "EMAIL", lead, {}, "suppressed/opt_out:ALL"},
      {"name", "MAIL", {{"id", "all-out"}}, {}, "suppressed/opt_out:ALL"},
      // The exception holds by alias too, and a person without opt-outs is not affected.
      {"alias-rt", "EMAIL", {{"id", "all-out"}}, {{"campaign", rt}}, "MAIL"},
      {"alias-clean", "EMAIL", {{"id", "clean"}}, {}, "MAIL"},
  };
  for (const auto& c : cases) {
    json extra = c.extra.is_null() ? json::object() : c.extra;
    extra["to"] = "a@example.com";
    rig.sender->send(header(c.id, c.channel, c.user, extra), "p");
  }
  const Outcomes got = rig.collect(cases.size());
  CHECK(rig.duplicates() == 0);
  for (const auto& c : cases) {
    INFO("message " << c.id << " on " << c.channel);
    REQUIRE(got.count(c.id) == 1);
    CHECK(got.at(c.id) == c.expect);
  }
}

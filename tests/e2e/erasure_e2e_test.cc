// Erasure through the built binary (PROTOCOL.md 13): DELETE /users/{id} and DELETE /leads
// leave no trace of the id, e-mail or phone anywhere in Redis (keys, values, stream
// entries), messages to them are suppressed `erased` (transactional included), status reads
// answer 404, and an explicit Opt In lifts it.
#include <catch2/catch.hpp>

#include "tests/e2e/address_support.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const json kTransactional = {{"campaign", {{"type", "realtime"}, {"transactional", true}}}};

}  // namespace

TEST_CASE("e2e erasure: a user leaves no trace and is suppressed until an Opt In",
          "[e2e][erasure]") {
  RedisServer redis;
  AddrRig rig(addr_options(redis.port()));
  rig.start();
  const std::string id = "erase-me-7731", email = "Erase.Me@Example.org", phone = "+1 555 000 1234";
  const json u = {{"id", id}};
  // Traces everywhere: a status with history, a link to an e-mail (set, link key, lead merge),
  // address suppressions of the e-mail and the phone, system events naming them.
  REQUIRE(rig.call("PUT", "/users/" + id + "/optout-status?channelType=SMS", R"({"optOut": true})")
              .status == 200);
  REQUIRE(rig.event({{"email", email},
                     {"events", json::array({{{"event", "Opt Out"},
                                              {"channel.type", "PUSH_NOTIFICATION"}}})}})
              .status == 202);
  REQUIRE(rig.event({{"id", id},
                     {"email", email},
                     {"events", json::array({{{"event", "Opt Out"}, {"channel.type", "MAIL"}}})}})
              .status == 202);
  REQUIRE(rig.event({{"email", email},
                     {"events", json::array({{{"event", "mail.bounce"},
                                              {"properties", {{"type", "hard"}}}}})}})
              .status == 202);
  REQUIRE(
      rig.event({{"events", json::array({{{"event", "sms.inbound"},
                                          {"properties", {{"from", phone}, {"body", "STOP"}}}}})}})
          .status == 202);
  REQUIRE(rig.event({{"id", "someone-else"},
                     {"events", json::array({{{"event", "Opt Out"}, {"channel.type", "MAIL"}}})}})
              .status == 202);
  const auto before = everything(redis);
  REQUIRE(mentions(before, id));
  REQUIRE(mentions(before, "erase.me@example.org"));
  REQUIRE(mentions(before, "+15550001234"));

  const AddrAnswer del = rig.call("DELETE", "/users/" + id + "?phone=%2B15550001234");
  REQUIRE(del.status == 200);
  CHECK(del.body["erased"] == true);

  const auto after = everything(redis);
  CHECK_FALSE(mentions(after, id));
  CHECK_FALSE(mentions(after, "erase.me@example.org"));
  CHECK_FALSE(mentions(after, "+15550001234"));
  CHECK_FALSE(mentions(after, "15550001234"));
  CHECK_FALSE(mentions(after, "555 000 1234"));  // as the SMS event carried it
  // Other people's traces stay.
  CHECK(mentions(after, "someone-else"));

  CHECK(rig.eventually_outcome("suppressed/erased", "MAIL", u, "x@example.com") ==
        "suppressed/erased");
  CHECK(rig.outcome("MAIL", u, "x@example.com", kTransactional) == "suppressed/erased");
  CHECK(rig.outcome("MAIL", {{"id", "new-person"}}, "erase.me@example.org", kTransactional) ==
        "suppressed/erased");
  CHECK(rig.outcome("MAIL", {{"email", email}}, "y@example.com") == "suppressed/erased");
  CHECK(rig.outcome("SMS", {{"id", "new-person"}}, "+1 (555) 000-1234", kTransactional) ==
        "suppressed/erased");
  CHECK(rig.call("GET", "/users/" + id + "/optout-status?channelType=MAIL").status == 404);
  CHECK(rig.call("GET", "/users/" + id + "/recipient-status").status == 404);
  CHECK(rig.call("GET", "/users/" + id + "/blacklist-status").status == 404);
  CHECK(rig.call("GET", "/users/" + id + "/optout-history").status == 404);
  CHECK(rig.call("GET", "/users/" + id + "/preferences").status == 404);
  CHECK(rig.call("GET", "/leads/optout-history?email=erase.me%40example.org").status == 404);
  CHECK(rig.call("GET", "/addresses/MAIL/erase.me@example.org").body["suppressed"] == false);
  // Someone else's reads are untouched.
  CHECK(rig.call("GET", "/users/someone-else/optout-status?channelType=MAIL").status == 200);

  SECTION("an Opt In by the API lifts the user's tombstone") {
    REQUIRE(
        rig.call("PUT", "/users/" + id + "/optout-status?channelType=MAIL", R"({"optOut": false})")
            .status == 200);
    CHECK(rig.eventually_outcome("MAIL", "MAIL", u, "x@example.com") == "MAIL");
    CHECK(rig.call("GET", "/users/" + id + "/optout-status?channelType=MAIL").status == 200);
  }
  SECTION("an Opt In event for the e-mail lifts the e-mail's tombstone") {
    REQUIRE(rig.event({{"email", email},
                       {"events", json::array({{{"event", "Opt In"}, {"channel.type", "MAIL"}}})}})
                .status == 202);
    CHECK(rig.eventually_outcome("MAIL", "MAIL", {{"id", "new-person"}}, "erase.me@example.org") ==
          "MAIL");
    CHECK(rig.outcome("MAIL", u, "x@example.com") == "suppressed/erased");
  }
}

TEST_CASE("e2e erasure: a lead by e-mail", "[e2e][erasure]") {
  RedisServer redis;
  AddrRig rig(addr_options(redis.port()));
  rig.start();
  REQUIRE(rig.event({{"email", "Lead.Only@example.net"},
                     {"businessUnit", "bu1"},
                     {"events", json::array({{{"event", "Opt Out"}, {"channel.type", "SMS"}}})}})
              .status == 202);
  REQUIRE(mentions(everything(redis), "lead.only@example.net"));
  CHECK(rig.call("DELETE", "/leads").status == 400);
  const AddrAnswer del =
      rig.call("DELETE", "/leads?email=Lead.Only%40example.net&businessUnit=bu1");
  REQUIRE(del.status == 200);
  CHECK_FALSE(mentions(everything(redis), "lead.only@example.net"));
  CHECK(rig.eventually_outcome("suppressed/erased", "MAIL",
                               {{"email", "lead.only@example.net"}, {"bu", "bu1"}},
                               "z@example.com") == "suppressed/erased");
  CHECK(rig.call("GET", "/leads/optout-history?email=lead.only%40example.net&businessUnit=bu1")
            .status == 404);
  CHECK(rig.call("DELETE", "/leads?email=not-an-email").status == 400);
  CHECK(rig.call("DELETE", "/users/x?phone=call-me").status == 400);
}

TEST_CASE("e2e erasure: a lead linked to a user leaves that user's history too", "[e2e][erasure]") {
  RedisServer redis;
  AddrRig rig(addr_options(redis.port()));
  rig.start();
  REQUIRE(rig.event({{"id", "keeper"},
                     {"email", "linked.lead@example.net"},
                     {"events", json::array({{{"event", "Opt Out"}, {"channel.type", "SMS"}}})}})
              .status == 202);
  REQUIRE(rig.event({{"id", "keeper"},
                     {"events", json::array({{{"event", "Opt Out"}, {"channel.type", "MAIL"}}})}})
              .status == 202);
  REQUIRE(mentions(everything(redis), "linked.lead@example.net"));
  REQUIRE(rig.call("DELETE", "/leads?email=linked.lead%40example.net").status == 200);
  CHECK_FALSE(mentions(everything(redis), "linked.lead@example.net"));
  // The user stays, with its own statuses.
  CHECK(rig.call("GET", "/users/keeper/optout-status?channelType=MAIL").body["optOut"] == true);
  CHECK(rig.eventually_outcome("suppressed/erased", "MAIL", {{"id", "other"}},
                               "linked.lead@example.net") == "suppressed/erased");
}

TEST_CASE("e2e erasure: without erasure.salt DELETE answers 503 and changes nothing",
          "[e2e][erasure]") {
  RedisServer redis;
  GatekeeperOptions o;
  o.redis_port = redis.port();
  AddrRig rig(o);
  rig.start();
  REQUIRE(
      rig.call("PUT", "/users/kept/optout-status?channelType=MAIL", R"({"optOut": true})").status ==
      200);
  const AddrAnswer del = rig.call("DELETE", "/users/kept");
  CHECK(del.status == 503);
  CHECK(del.body["error"].get<std::string>().find("erasure.salt") != std::string::npos);
  CHECK(rig.call("GET", "/users/kept/optout-status?channelType=MAIL").body["optOut"] == true);
}

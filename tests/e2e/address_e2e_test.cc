// Address suppressions through the built binary (PROTOCOL.md 11): events and the API
// suppress a `to` address, every reason reaches the decisions outlet (realtime
// transactional included), SMS keywords, soft bounces, phone normalisation.
#include <catch2/catch.hpp>

#include <set>

#include "tests/e2e/address_support.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const json kTransactional = {{"campaign", {{"type", "realtime"}, {"transactional", true}}}};

json sms_in(const std::string& from, const std::string& body, const std::string& ts = "") {
  json e = {{"event", "sms.inbound"}, {"properties", {{"from", from}, {"body", body}}}};
  if (!ts.empty()) e["timestamp"] = ts;
  return {{"events", json::array({e})}};
}

json bounce(const std::string& email, const std::string& type, const std::string& ts = "") {
  json e = {{"event", "mail.bounce"}, {"properties", {{"type", type}}}};
  if (!ts.empty()) e["timestamp"] = ts;
  return {{"email", email}, {"events", json::array({e})}};
}

}  // namespace

TEST_CASE("e2e addresses: every reason on the decisions outlet (transactional included)",
          "[e2e][addresses]") {
  RedisServer redis;
  AddrRig rig(addr_options(redis.port()));
  rig.start();
  const json u = {{"id", "u-addr"}};
  REQUIRE(rig.outcome("MAIL", u, "hard@example.com") == "MAIL");

  REQUIRE(rig.event(bounce("Hard@Example.com", "hard")).status == 202);
  CHECK(rig.eventually_outcome("suppressed/address:bounce", "MAIL", u, " HARD@example.COM ") ==
        "suppressed/address:bounce");
  CHECK(rig.outcome("MAIL", u, "hard@example.com", kTransactional) == "suppressed/address:bounce");
  // The same person, another address: not suppressed.
  CHECK(rig.outcome("MAIL", u, "other@example.com") == "MAIL");

  REQUIRE(rig.event({{"events", json::array({{{"event", "mail.complaint"},
                                              {"properties", {{"address", "c@example.com"}}}}})}})
              .status == 202);
  CHECK(rig.eventually_outcome("suppressed/address:complaint", "MAIL", u, "c@example.com",
                               kTransactional) == "suppressed/address:complaint");

  REQUIRE(rig.event(sms_in("+44 (20) 7946-0018", "STOP")).status == 202);
  CHECK(rig.eventually_outcome("suppressed/address:sms_stop", "SMS", u, "+442079460018",
                               kTransactional) == "suppressed/address:sms_stop");

  const AddrAnswer put = rig.call("PUT", "/addresses/EMAIL/Manual@Example.com",
                                  R"({"suppressed": true, "reason": "manual"})");
  REQUIRE(put.status == 200);
  CHECK(put.body["suppressed"] == true);
  CHECK(put.body["reason"] == "manual");
  CHECK(put.body["timestamp"].is_string());
  CHECK(put.body["address"] == "manual@example.com");
  CHECK(put.body["channel.type"] == "MAIL");
  CHECK(rig.eventually_outcome("suppressed/address:manual", "MAIL", u, "manual@example.com",
                               kTransactional) == "suppressed/address:manual");

  SECTION("stored as the contract's hash, with system events") {
    auto h = redis.command({"HGET", "gk:a:MAIL:hard@example.com", "reason"});
    REQUIRE(h->type == REDIS_REPLY_STRING);
    CHECK(std::string(h->str) == "bounce");
    CHECK(std::string(redis.command({"HGET", "gk:a:SMS:+442079460018", "suppressed"})->str) == "1");
    CHECK(redis.command({"HGET", "gk:a:MAIL:hard@example.com", "suppressed:ts"})->type ==
          REDIS_REPLY_STRING);
    int suppressed_events = 0;
    std::set<std::string> seen;
    for (auto& m :
         AddrRig::stream([&](const std::vector<std::string>& a) { return redis.command(a); })) {
      if (m["event"] != "Address Suppressed") continue;
      ++suppressed_events;
      seen.insert(m["channel.type"] + " " + m["address"] + " " + m["reason"]);
      CHECK(m["changed"] == "true");
    }
    CHECK(suppressed_events == 4);
    CHECK(seen ==
          std::set<std::string>{"MAIL hard@example.com bounce", "MAIL c@example.com complaint",
                                "SMS +442079460018 sms_stop", "MAIL manual@example.com manual"});
  }
  SECTION("lifted by the API") {
    const AddrAnswer off =
        rig.call("PUT", "/addresses/MAIL/hard@example.com", R"({"suppressed": false})");
    REQUIRE(off.status == 200);
    CHECK(off.body["suppressed"] == false);
    CHECK(rig.eventually_outcome("MAIL", "MAIL", u, "hard@example.com") == "MAIL");
    const AddrAnswer get = rig.call("GET", "/addresses/MAIL/hard@example.com");
    CHECK(get.status == 200);
    CHECK(get.body["suppressed"] == false);
    bool unsuppressed = false;
    for (auto& m :
         AddrRig::stream([&](const std::vector<std::string>& a) { return redis.command(a); })) {
      unsuppressed = unsuppressed || (m["event"] == "Address Unsuppressed" &&
                                      m["address"] == "hard@example.com" && m["source"] == "api");
    }
    CHECK(unsuppressed);
  }
  SECTION("bad input gets a clear 4xx") {
    CHECK(rig.call("GET", "/addresses/FAX/x").status == 404);
    CHECK(rig.call("GET", "/addresses/SMS/call-me").status == 400);
    CHECK(rig.call("PUT", "/addresses/MAIL/a@b.c", R"({"suppressed": "yes"})").status == 400);
    CHECK(
        rig.call("PUT", "/addresses/MAIL/a@b.c", R"({"suppressed": true, "reason": "x"})").status ==
        400);
    const AddrAnswer bad = rig.event(bounce("a@b.c", "maybe"));
    CHECK(bad.status == 400);
  }
}

TEST_CASE("e2e addresses: SMS keywords and START never lifting a bounce", "[e2e][addresses]") {
  RedisServer redis;
  AddrRig rig(addr_options(redis.port()));
  rig.start();
  const json u = {{"id", "u-sms"}};
  const std::string phone = "+1 555.010.0000";
  REQUIRE(rig.outcome("SMS", u, phone) == "SMS");

  auto state = [&](const std::string& p) {
    const AddrAnswer a = rig.call("GET", "/addresses/SMS/" + p);
    REQUIRE(a.status == 200);
    return a.body["suppressed"] == true;
  };
  // Nothing but exactly one keyword counts.
  REQUIRE(rig.event(sms_in(phone, "STOP please")).status == 202);
  REQUIRE(rig.event(sms_in(phone, "HELP")).status == 202);
  CHECK_FALSE(state("+15550100000"));
  REQUIRE(rig.event(sms_in(phone, "  stop\n")).status == 202);
  CHECK(state("+15550100000"));
  CHECK(rig.eventually_outcome("suppressed/address:sms_stop", "SMS", u, "+15550100000") ==
        "suppressed/address:sms_stop");
  REQUIRE(rig.event(sms_in(phone, "Start")).status == 202);
  CHECK_FALSE(state("+15550100000"));
  CHECK(rig.eventually_outcome("SMS", "SMS", u, phone) == "SMS");

  // A bounce on SMS (set by the API) stays through START.
  REQUIRE(
      rig.call("PUT", "/addresses/SMS/+15550100001", R"({"suppressed": true, "reason": "bounce"})")
          .status == 200);
  REQUIRE(rig.event(sms_in("+15550100001", "START")).status == 202);
  CHECK(state("+15550100001"));
  CHECK(rig.call("GET", "/addresses/SMS/+15550100001").body["reason"] == "bounce");
  CHECK(rig.eventually_outcome("suppressed/address:bounce", "SMS", u, "+15550100001") ==
        "suppressed/address:bounce");
}

TEST_CASE("e2e addresses: configured keyword lists replace the defaults", "[e2e][addresses]") {
  RedisServer redis;
  AddrRig rig(
      addr_options(redis.port(), "[sms_keywords]\nopt_out = [\"ARRET\"]\nopt_in = [\"ALLEZ\"]\n"));
  rig.start();
  auto suppressed = [&](const std::string& p) {
    return rig.call("GET", "/addresses/SMS/" + p).body["suppressed"] == true;
  };
  REQUIRE(rig.event(sms_in("+33100000001", "STOP")).status == 202);
  CHECK_FALSE(suppressed("+33100000001"));
  REQUIRE(rig.event(sms_in("+33100000001", "arret")).status == 202);
  CHECK(suppressed("+33100000001"));
  REQUIRE(rig.event(sms_in("+33100000001", "START")).status == 202);
  CHECK(suppressed("+33100000001"));
  REQUIRE(rig.event(sms_in("+33100000001", "Allez")).status == 202);
  CHECK_FALSE(suppressed("+33100000001"));
}

TEST_CASE("e2e addresses: soft bounces suppress at the limit within the window",
          "[e2e][addresses]") {
  RedisServer redis;
  AddrRig rig(addr_options(redis.port(),
                           "[suppression]\nsoft_bounce_limit = 3\nsoft_bounce_window_days = 7\n"));
  rig.start();
  auto suppressed = [&] {
    return rig.call("GET", "/addresses/MAIL/soft@example.com").body["suppressed"] == true;
  };
  // Days 1, 9 and 10: the window counted back from day 10 holds two.
  REQUIRE(rig.event(bounce("soft@example.com", "soft", "2026-11-01T00:00:00Z")).status == 202);
  REQUIRE(rig.event(bounce("soft@example.com", "soft", "2026-11-10T00:00:00Z")).status == 202);
  REQUIRE(rig.event(bounce("soft@example.com", "soft", "2026-11-09T00:00:00Z")).status == 202);
  CHECK_FALSE(suppressed());
  // Day 12: 9, 10 and 12 are within 7 days of 12.
  REQUIRE(rig.event(bounce("soft@example.com", "soft", "2026-11-12T00:00:00Z")).status == 202);
  CHECK(suppressed());
  const AddrAnswer a = rig.call("GET", "/addresses/MAIL/soft@example.com");
  CHECK(a.body["reason"] == "bounce");
  CHECK(a.body["timestamp"] == "2026-11-12T00:00:00.000Z");
}

TEST_CASE("e2e addresses: phone numbers are stored as + and digits", "[e2e][addresses]") {
  RedisServer redis;
  AddrRig rig(addr_options(redis.port()));
  rig.start();
  REQUIRE(rig.call("PUT", "/addresses/SMS/%2B49%20(30)%20123-45.67", R"({"suppressed": true})")
              .status == 200);
  auto h = redis.command({"HGET",
                          "gk:a:SMS:+4930123456"
                          "7",
                          "suppressed"});
  REQUIRE(h->type == REDIS_REPLY_STRING);
  CHECK(std::string(h->str) == "1");
  CHECK(rig.call("GET", "/addresses/SMS/+4930-1234567").body["suppressed"] == true);
  CHECK(rig.eventually_outcome("suppressed/address:manual", "SMS", {{"id", "p"}},
                               "+49 30 123 45 67") == "suppressed/address:manual");
  // A message to a number not suppressed still goes.
  CHECK(rig.outcome("SMS", {{"id", "p"}}, "+49 30 123 45 68") == "SMS");
}

TEST_CASE("e2e addresses: a suppression written to Redis directly is noticed", "[e2e][addresses]") {
  RedisServer redis;
  redis.command(
      {"HSET", "gk:a:MAIL:preloaded@example.com", "suppressed", "1", "reason", "complaint"});
  AddrRig rig(addr_options(redis.port()));
  rig.start();
  const json u = {{"id", "u-direct"}};
  CHECK(rig.eventually_outcome("suppressed/address:complaint", "MAIL", u,
                               "preloaded@example.com") == "suppressed/address:complaint");
  redis.command({"HSET", "gk:a:MAIL:later@example.com", "suppressed", "1", "reason", "bounce"});
  CHECK(rig.eventually_outcome("suppressed/address:bounce", "MAIL", u, "later@example.com") ==
        "suppressed/address:bounce");
  redis.command({"DEL", "gk:a:MAIL:later@example.com"});
  CHECK(rig.eventually_outcome("MAIL", "MAIL", u, "later@example.com") == "MAIL");
}

TEST_CASE("e2e addresses: after a Redis outage the book is loaded again before messages go",
          "[e2e][addresses]") {
  RedisServer redis;
  AddrRig rig(addr_options(redis.port()));
  rig.start();
  const json u = {{"id", "u-outage"}};
  REQUIRE(rig.outcome("MAIL", u, "outage@example.com") == "MAIL");
  redis.stop();
  REQUIRE(eventually([&] { return http_get(rig.opts.http_port, "/readyz").status == 503; }));
  // Written while no sidecar listened: only a fresh load can know it.
  redis.start();
  redis.command({"HSET", "gk:a:MAIL:outage@example.com", "suppressed", "1", "reason", "complaint"});
  REQUIRE(eventually([&] { return http_get(rig.opts.http_port, "/readyz").status == 200; },
                     std::chrono::seconds(10)));
  CHECK(rig.outcome("MAIL", u, "outage@example.com", kTransactional) ==
        "suppressed/address:complaint");
  const std::string ready = http_get(rig.opts.http_port, "/readyz").body;
  CHECK(ready.find("\"addresses\":true") != std::string::npos);
}

// Fail closed: what the binary does while Redis is unreachable.
#include <catch2/catch.hpp>

#include "tests/support/ports.h"
#include "tests/support/rig.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const json kRealtimeTx = {{"campaign", {{"type", "realtime"}, {"transactional", true}}},
                          {"to", "a@x"}};

}  // namespace

TEST_CASE("outage: held messages are decided with the right status once Redis is back",
          "[e2e][outage]") {
  Rig rig(/*persistent_redis=*/true);
  rig.opts.hold_max_wait_ms = 30000;
  rig.redis.hset("gk:u::out", "MAIL", "1");
  rig.redis.hset("gk:u::black", "BLACKLIST", "1");
  rig.start();

  rig.redis.stop();
  REQUIRE(rig.gk->wait_ready(503));
  for (int i = 0; i < 30; ++i) {
    const char* who = i % 3 == 0 ? "out" : (i % 3 == 1 ? "black" : "fine");
    rig.sender->send(header("h" + std::to_string(i), "MAIL", {{"id", who}}, {{"to", "a@x"}}), "p");
  }
  // Nothing may leave while the status is unknown: the messages wait in the held queue.
  REQUIRE(eventually([&] { return rig.metric("gk_messages_held") == 30; }));
  CHECK(!rig.mail->receive(200ms));
  CHECK(!rig.decisions->receive(10ms));

  rig.redis.start();
  REQUIRE(rig.gk->wait_ready(200));
  const Outcomes got = rig.collect(30);
  REQUIRE(got.size() == 30);
  CHECK(rig.duplicates() == 0);
  for (int i = 0; i < 30; ++i) {
    const std::string id = "h" + std::to_string(i);
    const char* expect =
        i % 3 == 0 ? "suppressed/opt_out:MAIL" : (i % 3 == 1 ? "suppressed/blacklisted" : "MAIL");
    INFO(id);
    CHECK(got.at(id) == expect);
  }
  CHECK(rig.metric("gk_messages_held") == 0);
  CHECK(rig.metric("gk_redis_connects_total") >= 2);
}

TEST_CASE("outage: a message held past the maximum wait becomes store_unavailable",
          "[e2e][outage]") {
  Rig rig;
  rig.opts.hold_max_wait_ms = 300;
  rig.start();
  rig.redis.stop();
  REQUIRE(rig.gk->wait_ready(503));
  rig.sender->send(header("late", "MAIL", {{"id", "u1"}}, {{"to", "a@x"}}), "p");
  const Outcomes got = rig.collect(1, 5s);
  CHECK(got.at("late") == "rejected/store_unavailable");
}

TEST_CASE("outage: when the held queue is full the overflow is store_unavailable at once",
          "[e2e][outage]") {
  Rig rig;
  rig.opts.hold_max_wait_ms = 60000;
  rig.opts.hold_max_messages = 5;
  rig.start();
  rig.redis.stop();
  REQUIRE(rig.gk->wait_ready(503));
  for (int i = 0; i < 8; ++i) {
    rig.sender->send(header("q" + std::to_string(i), "MAIL", {{"id", "u1"}}, {{"to", "a@x"}}), "p");
  }
  const Outcomes got = rig.collect(3, 5s);
  CHECK(got == Outcomes{{"q5", "rejected/store_unavailable"},
                        {"q6", "rejected/store_unavailable"},
                        {"q7", "rejected/store_unavailable"}});
  CHECK(rig.metric("gk_messages_held") == 5);
}

TEST_CASE("outage: realtime transactional messages follow on_store_unavailable.transactional",
          "[e2e][outage]") {
  SECTION("forward (the default): they keep flowing without a lookup") {
    Rig rig;
    rig.start();
    rig.redis.stop();
    REQUIRE(rig.gk->wait_ready(503));
    rig.sender->send(header("rt", "MAIL", {{"id", "u1"}}, kRealtimeTx), "p");
    rig.sender->send(header("promo", "MAIL", {{"id", "u1"}}, {{"to", "a@x"}}), "p");
    auto got = rig.mail->receive(5s);
    REQUIRE(got);
    CHECK(unpack((*got)[0])["id"] == "rt");
    CHECK(!rig.mail->receive(200ms));  // the promotion waits for the store
  }
  SECTION("hold: they wait like every other message") {
    Rig rig;
    rig.opts.transactional_policy = "hold";
    rig.opts.hold_max_wait_ms = 400;
    rig.start();
    rig.redis.stop();
    REQUIRE(rig.gk->wait_ready(503));
    rig.sender->send(header("rt", "MAIL", {{"id", "u1"}}, kRealtimeTx), "p");
    const Outcomes got = rig.collect(1, 5s);
    CHECK(got.at("rt") == "rejected/store_unavailable");
  }
}

// The admission flow reads each header once and one message ahead: a message that waits
// (for the batch's fetch, or held for the store) is not decoded again, the source is asked
// to prefetch every person before their lookup, and reading ahead changes no order.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/fakes/flow_rig.h"

using namespace gk;
using namespace gk::test;
using Strings = std::vector<std::string>;

TEST_CASE("admission flow: a message that waits for the fetch is decoded once",
          "[pipeline][admission][read-ahead]") {
  FlowRig rig;
  rig.store.cache("u1");
  rig.send("m1", "u1");                      // a hit
  rig.send("m2", "u2");                      // a miss: parked until the fetch
  rig.send("m3", "u3");                      // a miss
  rig.send("bad", "u4", "NO_SUCH_CHANNEL");  // decided on its face
  rig.take_batch();
  CHECK(rig.store.fetches() == 1);
  CHECK(rig.flow.decodes() == 4);
  // Every message that needed a status was announced before its lookup.
  CHECK(rig.store.prefetches() == 3);
  CHECK(rig.outlets.forwarded(kMail) == Strings{"m1", "m2", "m3"});
  CHECK(rig.conserved());
}

TEST_CASE("admission flow: held messages are not decoded again when retried",
          "[pipeline][admission][read-ahead]") {
  FlowRig rig;
  rig.store.fail();
  for (const auto& id : ids("m", 1, 3)) rig.send(id, "u" + id);
  rig.take_batch();
  REQUIRE(rig.flow.held() == 3);
  CHECK(rig.flow.decodes() == 3);
  // A store that is down is not asked to prefetch anything.
  CHECK(rig.store.prefetches() == 0);
  rig.store.recover();
  rig.turn();
  CHECK(rig.flow.held() == 0);
  CHECK(rig.outlets.forwarded(kMail) == Strings{"m1", "m2", "m3"});
  CHECK(rig.flow.decodes() == 3);

  SECTION("unless the settings were reloaded meanwhile: then they are read under the new ones") {
    rig.store.fail();
    rig.send("n1", "un1");
    rig.take_batch();
    REQUIRE(rig.flow.held() == 1);
    rig.config.channels[kMail].require_address = true;
    rig.flow.configure();
    rig.store.recover();
    rig.turn();
    CHECK(rig.flow.decodes() == 5);
    CHECK(rig.outlets.forwarded(kMail) == Strings{"m1", "m2", "m3", "n1"});
  }
  CHECK(rig.conserved());
}

TEST_CASE("admission flow: reading ahead keeps the order decisions leave in",
          "[pipeline][admission][read-ahead]") {
  FlowRig rig;
  rig.store.set("u1", opted_out_of_all());
  for (const auto& u : {"u1", "u2"}) rig.store.cache(u);
  // m1 is suppressed when it is looked up, after m2 behind it was read and found to be
  // undecidable on its face; m2's decision must still leave after m1's.
  rig.send("m1", "u1");
  rig.send("m2", "u2", "NO_SUCH_CHANNEL");
  rig.send("m3", "u2");
  rig.send("m4", "u2", "MAIL", nlohmann::json{{"campaign", {{"topic", "nope"}}}, {"to", "a@x"}});
  rig.send("m5", "u1");
  rig.take_batch();
  CHECK(rig.outlets.payloads() == Strings{"m1", "m2", "m3", "m4", "m5"});
  CHECK(rig.outlets.exit_of("m1").decision.reason == Reason::kOptOutAll);
  CHECK(rig.outlets.exit_of("m2").decision.reason == Reason::kUnknownChannel);
  CHECK(rig.outlets.exit_of("m4").decision.reason == Reason::kUnknownTopic);
  CHECK(rig.outlets.exit_of("m5").decision.reason == Reason::kOptOutAll);
  CHECK(rig.conserved());
}

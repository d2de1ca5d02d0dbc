// The admission flow of the message loop (gatekeeper/admission/admission_flow.h) on fakes:
// one fetch per batch, hold order, re-insert at the front, expiry and the transactional
// policy. No Redis, no sockets: tests/fakes.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/fakes/flow_rig.h"

using namespace gk;
using namespace gk::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

const nlohmann::json kRealtimeTx = {{"to", "a@x"},
                                    {"campaign", {{"type", "realtime"}, {"transactional", true}}}};

}  // namespace

TEST_CASE("admission flow: a batch's misses share one fetch, hits leave without one",
          "[pipeline][admission]") {
  FlowRig rig;
  rig.store.set("u2", opted_out_of_all());
  for (const auto& id : ids("m", 1, 4)) rig.send(id, id == "m2" ? "u2" : "u" + id);
  rig.take_batch();
  CHECK(rig.store.fetches() == 1);
  CHECK(rig.outlets.payloads() == Strings{"m1", "m2", "m3", "m4"});
  CHECK(rig.outlets.exit_of("m2").decision.action == Action::kSuppress);
  CHECK(rig.outlets.exit_of("m2").decision.reason == Reason::kOptOutAll);
  CHECK(rig.outlets.forwarded(kMail) == Strings{"m1", "m3", "m4"});

  // The same people again: cached, so no round trip at all.
  for (const auto& id : ids("n", 1, 3)) rig.send(id, "um1");
  rig.take_batch();
  CHECK(rig.store.fetches() == 1);
  CHECK(rig.outlets.forwarded(kMail).size() == 6);
  CHECK(rig.conserved());
}

TEST_CASE("admission flow: malformed, unknown channel and alias are decided without the store",
          "[pipeline][admission]") {
  FlowRig rig;
  rig.store.fail();
  rig.ingress.push(message_frames(nlohmann::json::array({1, 2}), "bad"));
  rig.send("ch", "u1", "FAX");
  rig.store.recover();
  rig.store.set("u1", opted_out_of_all());
  rig.send("alias", "u1", "EMAIL");
  rig.take_batch();
  const auto& bad = rig.outlets.exit_of("bad");
  CHECK(bad.decision.reason == Reason::kMalformed);
  CHECK_FALSE(bad.detail.empty());
  CHECK(rig.outlets.exit_of("ch").decision.reason == Reason::kUnknownChannel);
  CHECK(rig.outlets.exit_of("ch").channel_name == "FAX");
  // An ALL opt-out holds whatever name the channel goes by; the decision names it canonically.
  const auto& alias = rig.outlets.exit_of("alias");
  CHECK(alias.decision.reason == Reason::kOptOutAll);
  CHECK(alias.channel_name == "MAIL");
  CHECK(rig.stats
            .by_channel_reason[kMaxChannelTypes][static_cast<std::size_t>(Reason::kUnknownChannel)]
            .get() == 1);
}

TEST_CASE("admission flow: held messages are decided in arrival order once the store is back",
          "[pipeline][hold]") {
  FlowRig rig;
  rig.store.set("u3", opted_out_of_all());
  rig.store.fail();
  for (const auto& id : ids("m", 1, 5)) rig.send(id, "u" + id.substr(1));
  rig.take_batch();
  CHECK(rig.flow.held() == 5);
  CHECK(rig.outlets.exits().empty());
  CHECK(rig.stats.held.get() == 5);
  CHECK(rig.stats.held_total.get() == 5);

  // The store is back, but what arrives now queues behind the held ones, even a person the
  // store could answer at once.
  rig.store.recover();
  rig.send("m6", "u6");
  rig.take_batch();
  CHECK(rig.flow.held() == 6);
  CHECK(rig.outlets.exits().empty());

  rig.turn();
  CHECK(rig.flow.held() == 0);
  CHECK(rig.stats.held.get() == 0);
  CHECK(rig.outlets.payloads() == ids("m", 1, 6));
  CHECK(rig.outlets.exit_of("m3").decision.reason == Reason::kOptOutAll);
  CHECK(rig.conserved());
}

TEST_CASE("admission flow: a held message goes back to the front when the store fails again",
          "[pipeline][hold]") {
  Config c = flow_config();
  c.ingress.batch_size = 2;  // a retry takes the two oldest of four
  FlowRig rig(c);
  rig.store.fail();
  for (const auto& id : ids("m", 1, 4)) rig.send(id, "u" + id.substr(1));
  rig.take_batch();
  rig.take_batch();
  REQUIRE(rig.flow.held() == 4);

  // The retry's fetch fails: m1 and m2 go back in front of m3 and m4, in their order.
  rig.store.recover();
  rig.store.fail_next_fetch();
  rig.turn();
  CHECK(rig.store.failed_fetches() == 1);  // the retry's: held ones never asked
  CHECK(rig.flow.held() == 4);
  CHECK(rig.stats.held_total.get() == 4);  // back at the front is not a new hold
  CHECK(rig.outlets.exits().empty());

  rig.store.recover();
  rig.send("m5", "u5");
  for (int i = 0; i < 5 && (rig.flow.held() > 0 || rig.ingress.waiting() > 0); ++i) rig.turn();
  CHECK(rig.outlets.payloads() == ids("m", 1, 5));
  CHECK(rig.conserved());
}

TEST_CASE("admission flow: a held message past hold_max_wait_ms is rejected store_unavailable",
          "[pipeline][hold][expiry]") {
  FlowRig rig;  // hold_max_wait_ms = 1000
  rig.store.fail();
  rig.send("m1", "u1");
  rig.take_batch();
  rig.clock.advance(600ms);
  rig.send("m2", "u2");
  rig.take_batch();
  REQUIRE(rig.flow.held() == 2);

  rig.clock.advance(399ms);
  rig.turn();
  CHECK(rig.flow.held() == 2);
  rig.clock.advance(1ms);  // m1 has waited exactly 1000 ms
  rig.turn();
  CHECK(rig.flow.held() == 1);
  const auto& m1 = rig.outlets.exit_of("m1");
  CHECK(m1.decision.action == Action::kReject);
  CHECK(m1.decision.reason == Reason::kStoreUnavailable);
  CHECK(m1.detail == "status store unreachable");
  CHECK(m1.channel_name == "MAIL");
  CHECK(m1.id == "m1");

  rig.clock.advance(600ms);
  rig.turn();
  CHECK(rig.flow.held() == 0);
  CHECK(rig.outlets.exit_of("m2").decision.reason == Reason::kStoreUnavailable);
  CHECK(rig.stats.rejected.get() == 2);
  CHECK(rig.conserved());
}

TEST_CASE("admission flow: a full held queue rejects new arrivals at once", "[pipeline][hold]") {
  Config c = flow_config();
  c.on_store_unavailable.hold_max_messages = 2;
  FlowRig rig(c);
  rig.store.fail();
  for (const auto& id : ids("m", 1, 3)) rig.send(id, "u" + id.substr(1));
  rig.take_batch();
  CHECK(rig.flow.held() == 2);
  CHECK(rig.outlets.payloads() == Strings{"m3"});
  CHECK(rig.outlets.exit_of("m3").decision.reason == Reason::kStoreUnavailable);
  CHECK(rig.outlets.exit_of("m3").detail == "held queue is full");
  CHECK(rig.conserved());
}

TEST_CASE("admission flow: realtime transactional messages follow on_store_unavailable",
          "[pipeline][hold][expiry]") {
  SECTION("forward: they go ahead of the held ones, unchecked") {
    FlowRig rig;
    rig.store.fail();
    rig.send("batch", "u1");
    rig.send("tx", "u2", "MAIL", kRealtimeTx);
    rig.send("tx-no-address", "u3", "MAIL",
             {{"campaign", {{"type", "realtime"}, {"transactional", true}}}});
    rig.take_batch();
    CHECK(rig.flow.held() == 1);
    CHECK(rig.outlets.forwarded(kMail) == Strings{"tx"});
    CHECK(rig.outlets.exit_of("tx-no-address").decision.reason == Reason::kNoAddress);
  }
  SECTION("hold: they wait like the others and expire like the others") {
    Config c = flow_config();
    c.on_store_unavailable.transactional = TransactionalPolicy::kHold;
    FlowRig rig(c);
    rig.store.fail();
    rig.send("tx", "u2", "MAIL", kRealtimeTx);
    rig.take_batch();
    CHECK(rig.flow.held() == 1);
    CHECK(rig.outlets.exits().empty());
    rig.clock.advance(1000ms);
    rig.turn();
    CHECK(rig.outlets.exit_of("tx").decision.reason == Reason::kStoreUnavailable);
  }
  SECTION("hold, store back in time: checked and decided like any other") {
    Config c = flow_config();
    c.on_store_unavailable.transactional = TransactionalPolicy::kHold;
    FlowRig rig(c);
    rig.store.set("u2", opted_out_of_all());
    rig.store.fail();
    rig.send("tx", "u2", "MAIL", kRealtimeTx);
    rig.take_batch();
    rig.clock.advance(999ms);
    rig.store.recover();
    rig.turn();
    // Realtime transactional passes an ALL opt-out: forwarded, after the lookup.
    CHECK(rig.outlets.forwarded(kMail) == Strings{"tx"});
    CHECK(rig.store.resolved() == 1);
  }
}

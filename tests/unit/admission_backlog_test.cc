// The admission flow of the message loop (gatekeeper/admission/admission_flow.h) on fakes:
// per-channel backlogs, the intake pause, and the drain on stop. No Redis, no sockets.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "tests/fakes/flow_rig.h"

using namespace gk;
using namespace gk::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

// Every message once, in exactly one place: forwarded or decided.
void check_each_left_once(const FlowRig& rig, const Strings& sent) {
  std::map<std::string, int> seen;
  for (const auto& e : rig.outlets.exits()) ++seen[e.payload];
  CHECK(seen.size() == sent.size());
  for (const auto& id : sent) {
    INFO("message " << id);
    CHECK(seen[id] == 1);
  }
  CHECK(rig.flow.held() == 0);
  CHECK(rig.flow.backlog_total() == 0);
  CHECK(rig.ingress.waiting() == 0);
  CHECK(rig.conserved());
}

// Turns until the drain may end; false if it does not within `max_turns`.
template <class Each>
bool drain(FlowRig& rig, int max_turns, Each each_turn) {
  rig.flow.begin_drain();
  for (int i = 0; i < max_turns; ++i) {
    each_turn(i);
    if (rig.turn()) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("admission flow: a blocked adapter's messages wait in order, other channels flow",
          "[pipeline][backlog]") {
  Config c = flow_config();
  c.egress.channel_backlog = 10;
  FlowRig rig(c);
  rig.outlets.block(kMail);
  rig.send("m1", "u1");
  rig.send("s1", "u2", "SMS");
  rig.send("m2", "u3");
  rig.send("s2", "u4", "SMS");
  rig.take_batch();
  CHECK(rig.flow.backlog_waiting(kMail) == 2);
  CHECK(rig.stats.backlog.get() == 2);
  CHECK(rig.outlets.forwarded(kSms) == Strings{"s1", "s2"});
  CHECK_FALSE(rig.flow.paused());

  // While MAIL waits, a later MAIL message queues behind (never overtakes), SMS still flows.
  rig.outlets.unblock(kMail);
  rig.send("m3", "u5");
  rig.send("s3", "u6", "SMS");
  rig.take_batch();
  CHECK(rig.outlets.forwarded(kMail).empty());
  CHECK(rig.outlets.forwarded(kSms) == Strings{"s1", "s2", "s3"});

  rig.turn();
  CHECK(rig.outlets.forwarded(kMail) == Strings{"m1", "m2", "m3"});
  CHECK(rig.flow.backlog_total() == 0);
  CHECK(rig.stats.backlog.get() == 0);
  CHECK(rig.stats.intake_pauses.get() == 0);
  CHECK(rig.conserved());
}

TEST_CASE("admission flow: a full backlog pauses the intake until it has room again",
          "[pipeline][backlog][pause]") {
  FlowRig rig;  // channel_backlog = 3, batch_size = 8
  rig.outlets.block(kMail);
  rig.send("s0", "u0", "SMS");
  for (const auto& id : ids("m", 1, 3)) rig.send(id, "u" + id);
  for (const auto& id : ids("s", 1, 2)) rig.send(id, "u" + id, "SMS");
  for (const auto& u : {"u0", "um1", "um2", "um3", "us1", "us2"}) rig.store.cache(u);
  rig.take_batch();
  // Cache hits leave at once, so the third MAIL message fills the backlog mid-batch: the
  // batch stops there, the rest stays queued on the ingress (the senders feel it) instead of
  // piling up inside.
  CHECK(rig.flow.paused());
  CHECK(rig.stats.intake_pauses.get() == 1);
  CHECK(rig.stats.received.get() == 4);
  CHECK(rig.ingress.waiting() == 2);
  CHECK(rig.outlets.forwarded(kSms) == Strings{"s0"});

  // Paused turns take nothing, however long the adapter stays away.
  for (int i = 0; i < 3; ++i) rig.turn();
  CHECK(rig.stats.received.get() == 4);
  CHECK(rig.flow.paused());
  CHECK(rig.stats.intake_pauses.get() == 1);

  // The adapter takes the backlog: intake resumes (polled again from the next turn on).
  rig.outlets.unblock(kMail);
  rig.turn();
  CHECK_FALSE(rig.flow.paused());
  CHECK(rig.outlets.forwarded(kMail) == Strings{"m1", "m2", "m3"});
  CHECK(rig.ingress.waiting() == 2);
  rig.turn();
  CHECK(rig.ingress.waiting() == 0);
  CHECK(rig.outlets.forwarded(kSms) == Strings{"s0", "s1", "s2"});
  CHECK(rig.conserved());
}

TEST_CASE("admission flow: a batch of misses lands whole, then the intake pauses",
          "[pipeline][backlog][pause]") {
  FlowRig rig;  // channel_backlog = 3
  rig.outlets.block(kMail);
  for (const auto& id : ids("m", 1, 5)) rig.send(id, "u" + id);
  rig.take_batch();
  // Every message waited for the batch's one fetch, so all were taken before any reached
  // the backlog: it passes the limit, and the next batch is not taken.
  CHECK(rig.flow.backlog_waiting(kMail) == 5);
  CHECK(rig.flow.paused());
  rig.send("m6", "u6");
  rig.turn();
  CHECK(rig.ingress.waiting() == 1);
  CHECK(rig.conserved());
}

TEST_CASE("admission flow: the pause holds while any one backlog is full",
          "[pipeline][backlog][pause]") {
  Config c = flow_config();
  c.egress.channel_backlog = 2;
  FlowRig rig(c);
  rig.outlets.block(kMail);
  rig.outlets.block(kSms);
  for (const auto& u : {"u1", "u2", "u3", "u4"}) rig.store.cache(u);
  rig.send("s1", "u1", "SMS");
  rig.send("m1", "u2");
  rig.send("m2", "u3");  // MAIL full: pause
  rig.send("m3", "u4");
  rig.take_batch();
  REQUIRE(rig.flow.paused());
  CHECK(rig.ingress.waiting() == 1);
  // SMS drains, but MAIL is still full: still paused.
  rig.outlets.unblock(kSms);
  rig.turn();
  CHECK(rig.outlets.forwarded(kSms) == Strings{"s1"});
  CHECK(rig.flow.paused());
  rig.outlets.unblock(kMail);
  rig.turn();
  CHECK_FALSE(rig.flow.paused());
}

TEST_CASE("admission flow: drain on stop decides held, backlogged and queued messages once",
          "[pipeline][drain]") {
  Config c = flow_config();
  c.egress.channel_backlog = 100;  // no pause here: see the next test
  FlowRig rig(c);
  rig.store.set("u2", opted_out_of_all());
  // Held: the store is down when they arrive.
  rig.store.fail();
  for (const auto& id : ids("h", 1, 3)) rig.send(id, "u" + id.substr(1));
  rig.take_batch();
  rig.store.recover();
  rig.turn();  // decided; the MAIL adapter is away, so the permitted ones wait
  // Backlogged: the adapter is away. Queued on the ingress: never taken before the stop, and
  // all for people not seen yet, so their batch needs a fetch during the drain.
  rig.outlets.block(kMail);
  rig.store.fail();
  for (const auto& id : ids("b", 1, 3)) rig.send(id, "v" + id);
  rig.take_batch();
  REQUIRE(rig.flow.held() == 3);
  rig.store.recover();
  rig.turn();
  REQUIRE(rig.flow.backlog_total() == 3);
  for (const auto& id : ids("q", 1, 4)) rig.send(id, "w" + id);

  bool ingress_emptied_while_blocked = false;
  const bool drained = drain(rig, 50, [&](int turn) {
    // The adapter stays away for a while: the drain must wait for it, not end.
    if (rig.ingress.waiting() == 0 && rig.flow.backlog_total() > 0) {
      ingress_emptied_while_blocked = true;
    }
    if (turn == 10) rig.outlets.unblock(kMail);
  });
  CHECK(ingress_emptied_while_blocked);
  REQUIRE(drained);
  Strings sent = ids("h", 1, 3);
  for (const auto& id : ids("b", 1, 3)) sent.push_back(id);
  for (const auto& id : ids("q", 1, 4)) sent.push_back(id);
  check_each_left_once(rig, sent);
  CHECK(rig.outlets.exit_of("h2").decision.reason == Reason::kOptOutAll);
  CHECK(rig.stats.received.get() == sent.size());
}

TEST_CASE("admission flow: drain with the intake paused reads the ingress queue behind it",
          "[pipeline][drain][pause]") {
  FlowRig rig;  // channel_backlog = 3
  rig.outlets.block(kMail);
  for (const auto& id : ids("m", 1, 6)) {
    rig.send(id, "u" + id);
    rig.store.cache("u" + id);
  }
  rig.take_batch();
  REQUIRE(rig.flow.paused());
  REQUIRE(rig.ingress.waiting() == 3);

  // Stop while paused; the adapter comes back on the first drain turn. That turn flushes
  // and resumes, but the ingress was not polled in it: the drain may not end there.
  const bool drained = drain(rig, 20, [&](int turn) {
    if (turn == 0) rig.outlets.unblock(kMail);
  });
  REQUIRE(drained);
  CHECK(rig.outlets.forwarded(kMail) == ids("m", 1, 6));
  check_each_left_once(rig, ids("m", 1, 6));
}

TEST_CASE("admission flow: a drain does not end while messages are held",
          "[pipeline][drain][hold]") {
  FlowRig rig;
  rig.store.fail();
  rig.send("m1", "u1");
  rig.take_batch();
  // The store stays down: the held message waits for its deadline, then is rejected.
  const bool drained = drain(rig, 5, [&](int) {});
  CHECK_FALSE(drained);
  CHECK(rig.flow.held() == 1);
  rig.clock.advance(1000ms);
  CHECK(rig.turn());
  CHECK(rig.outlets.exit_of("m1").decision.reason == Reason::kStoreUnavailable);
  check_each_left_once(rig, {"m1"});
}

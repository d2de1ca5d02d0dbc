// The admission flow reads each header once and ahead of its lookup (a window of messages, or
// one message while a backlog is near its limit): a message that waits
// (for the batch's fetch, or held for the store) is not decoded again, the source is asked
// to prefetch every person before their lookup, and reading ahead changes no order.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/fakes/flow_rig.h"

using namespace gk;
using namespace gk::test;
using Strings = std::vector<std::string>;

namespace {

// Room in every backlog for more than a batch: the flow reads a window of messages ahead.
Config wide_config() {
  Config c = flow_config();
  c.ingress.batch_size = 512;
  c.egress.channel_backlog = 10000;
  return c;
}

}  // namespace

TEST_CASE("admission flow: a message that waits for the fetch is decoded once",
          "[pipeline][admission][read-ahead]") {
  const bool windows = GENERATE(false, true);
  FlowRig rig(windows ? wide_config() : flow_config());
  rig.store.cache("u1");
  rig.send("m1", "u1");                      // a hit
  rig.send("m2", "u2");                      // a miss: parked until the fetch
  rig.send("m3", "u3");                      // a miss
  rig.send("bad", "u4", "NO_SUCH_CHANNEL");  // decided on its face
  rig.take_batch();
  CHECK(rig.store.fetches() == 1);
  CHECK(rig.flow.decodes() == 4);
  // Every message that needed a status was announced before its lookup; reading a window
  // ahead, twice: the probe, then the slot.
  CHECK(rig.store.prefetches() == 3);
  CHECK(rig.store.probe_prefetches() == (windows ? 3 : 0));
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
  CHECK(rig.store.probe_prefetches() == 0);
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
  FlowRig rig(GENERATE(false, true) ? wide_config() : flow_config());
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

TEST_CASE("admission flow: a batch longer than the read-ahead window keeps its order",
          "[pipeline][admission][read-ahead]") {
  FlowRig rig(wide_config());
  rig.store.set("out", opted_out_of_all());
  rig.store.cache("out");
  Strings hits, misses;
  std::size_t looked_up = 0;
  // 100 messages: hits, misses (parked for the one fetch), suppressed and malformed ones,
  // interleaved across several windows.
  for (int i = 0; i < 100; ++i) {
    const std::string id = "m" + std::to_string(i);
    if (i % 11 == 5) {
      rig.send(id, "u" + std::to_string(i), "NO_SUCH_CHANNEL");
      continue;
    }
    ++looked_up;
    if (i % 7 == 3) {
      rig.send(id, "out");
      continue;
    }
    const std::string user = (i % 2 == 0 ? "hit" : "miss") + std::to_string(i);
    if (i % 2 == 0) rig.store.cache(user);
    rig.send(id, user);
    (i % 2 == 0 ? hits : misses).push_back(id);
  }
  rig.take_batch();
  CHECK(rig.store.fetches() == 1);
  CHECK(rig.flow.decodes() == 100);
  // Hits leave at once, in order; the misses after the fetch, in order.
  Strings forwarded = hits;
  forwarded.insert(forwarded.end(), misses.begin(), misses.end());
  CHECK(rig.outlets.forwarded(kMail) == forwarded);
  CHECK(rig.store.prefetches() == looked_up);
  CHECK(rig.store.probe_prefetches() == looked_up);
  CHECK(rig.outlets.exit_of("m3").decision.reason == Reason::kOptOutAll);
  CHECK(rig.outlets.exit_of("m5").decision.reason == Reason::kUnknownChannel);
  CHECK(rig.conserved());
}

TEST_CASE("admission flow: near a backlog's limit the flow reads one ahead and pauses on time",
          "[pipeline][admission][read-ahead][backlog]") {
  Config c = wide_config();
  c.ingress.batch_size = 20;
  c.egress.channel_backlog = 30;
  FlowRig rig(c);
  rig.outlets.block(kMail);
  for (const auto& id : ids("m", 1, 40)) {
    rig.store.cache("u" + id);
    rig.send(id, "u" + id);
  }
  // The first batch fits the backlog whole: read a window ahead.
  rig.take_batch();
  CHECK(rig.flow.backlog_waiting(kMail) == 20);
  CHECK(rig.store.probe_prefetches() == 20);
  CHECK_FALSE(rig.flow.paused());
  // The second would not: one ahead, and the intake pauses exactly at the limit.
  rig.take_batch();
  CHECK(rig.store.probe_prefetches() == 20);
  CHECK(rig.flow.backlog_waiting(kMail) == 30);
  CHECK(rig.flow.paused());
  CHECK(rig.ingress.waiting() == 10);
  rig.outlets.unblock(kMail);
  while (rig.ingress.waiting() > 0 || rig.flow.backlog_total() > 0) rig.turn();
  CHECK(rig.outlets.forwarded(kMail) == ids("m", 1, 40));
  CHECK(rig.conserved());
}

TEST_CASE("admission flow: each malformed message keeps its own detail when read ahead",
          "[pipeline][admission][read-ahead]") {
  FlowRig rig(GENERATE(false, true) ? wide_config() : flow_config());
  rig.store.cache("u1");
  // Both details are composed by the decoder, which keeps one such text at a time.
  rig.send("m1", "u1");
  rig.send("bad-email", "", "MAIL", {{"to", "a@x"}, {"user", {{"email", "a\x01@x.org"}}}});
  rig.send("bad-bu", "u2", "MAIL", {{"to", "a@x"}, {"user", {{"id", "u2"}, {"bu", "a:b"}}}});
  rig.send("m2", "u1");
  rig.take_batch();
  CHECK(rig.outlets.payloads() == Strings{"m1", "bad-email", "bad-bu", "m2"});
  CHECK(rig.outlets.exit_of("bad-email").detail ==
        "header `user.email` must not contain control characters");
  CHECK(rig.outlets.exit_of("bad-bu").detail == "header `user.bu` must not contain ':'");
  CHECK(rig.conserved());
}

TEST_CASE("admission flow: a batch says whether it emptied the ingress",
          "[pipeline][admission][read-ahead]") {
  const bool windows = GENERATE(false, true);
  Config config = windows ? wide_config() : flow_config();
  config.ingress.batch_size = 4;
  FlowRig rig(config);
  for (const auto& id : ids("m", 1, 6)) rig.send(id, "u" + id);
  // The loop uses this to put off its store probe while messages keep coming.
  rig.take_batch();
  CHECK_FALSE(rig.flow.caught_up());  // stopped at the batch limit, two still queued
  rig.take_batch();
  CHECK(rig.flow.caught_up());
  CHECK(rig.outlets.forwarded(kMail).size() == 6);
  CHECK(rig.conserved());
}

TEST_CASE("admission flow: messages read past a window's end open the next window, in order",
          "[pipeline][admission][read-ahead]") {
  // A window reads its messages first and ends at the first one decided on its face; the rest
  // it read wait for the next window, and the batch limit still counts every message read.
  Config config = wide_config();
  config.ingress.batch_size = 10;
  FlowRig rig(config);
  rig.store.cache("hit");
  rig.send("m1", "hit");
  rig.send("m2", "u2", "NO_SUCH_CHANNEL");
  rig.send("m3", "u3", "NO_SUCH_CHANNEL");
  rig.send("m4", "miss4");
  rig.send("m5", "u5", "NO_SUCH_CHANNEL");
  for (const auto& id : ids("m", 6, 12)) rig.send(id, id == "m9" ? "miss9" : "hit");
  rig.take_batch();
  CHECK_FALSE(rig.flow.caught_up());
  CHECK(rig.flow.decodes() == 10);
  CHECK(rig.store.fetches() == 1);
  // Hits and rejections leave as they are read; the misses after the batch's one fetch.
  CHECK(rig.outlets.payloads() ==
        Strings{"m1", "m2", "m3", "m5", "m6", "m7", "m8", "m10", "m4", "m9"});
  rig.take_batch();
  CHECK(rig.flow.caught_up());
  CHECK(rig.flow.decodes() == 12);
  CHECK(rig.outlets.exit_of("m5").decision.reason == Reason::kUnknownChannel);
  CHECK(rig.outlets.forwarded(kMail).size() == 9);
  CHECK(rig.conserved());
}

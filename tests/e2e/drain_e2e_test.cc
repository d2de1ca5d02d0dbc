// Stopping with SIGTERM / SIGINT: every message inside the gatekeeper when the signal lands
// ends in exactly one place (an adapter or the decisions outlet) and the exit code is 0.
//
// Each test first drives a state where the messages are provably inside the gatekeeper (its
// metrics say so), then signals, then lets them out. A ZeroMQ send alone proves nothing: the
// message may still sit in the sender's queue.
#include <signal.h>
#include <catch2/catch.hpp>

#include <string>

#include "tests/support/ports.h"
#include "tests/support/rig.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Every fourth person opted out of everything: those messages end on the decisions outlet.
bool opted_out(int i) {
  return i % 4 == 0;
}

std::string id_of(int i) {
  return "d" + std::to_string(i);
}

// One person per message, so every message is a cache miss that waits for a store round trip:
// a drain that forgets a fetched batch shows.
void seed_opt_outs(RedisServer& redis, int count) {
  for (int i = 0; i < count; i += 4) redis.hset("gk:u::u" + std::to_string(i), "ALL", "1");
}

void send_all(Sidecar& rig, int count) {
  for (int i = 0; i < count; ++i) {
    rig.sender->send(header(id_of(i), "MAIL", {{"id", "u" + std::to_string(i)}}, {{"to", "a@x"}}),
                     "p");
  }
}

// Exact conservation: each message once, where its person's status sends it.
void check_every_message_once(const Outcomes& got, std::size_t duplicates, int count) {
  CHECK(duplicates == 0);
  CHECK(got.size() == static_cast<std::size_t>(count));
  int forwarded = 0;
  int suppressed = 0;
  for (int i = 0; i < count; ++i) {
    const auto it = got.find(id_of(i));
    INFO("message " << id_of(i));
    REQUIRE(it != got.end());
    const std::string expect = opted_out(i) ? "suppressed/opt_out:ALL" : "MAIL";
    CHECK(it->second == expect);
    (opted_out(i) ? suppressed : forwarded) += 1;
  }
  CHECK(suppressed == count / 4);
  CHECK(forwarded == count - count / 4);
}

bool log_has(Sidecar& rig, const std::string& text) {
  return rig.gk->log().find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("e2e: SIGTERM drains every taken message and exits 0", "[e2e][drain]") {
  constexpr int kMessages = 2000;
  constexpr int kForwards = kMessages - kMessages / 4;
  Rig rig;
  seed_opt_outs(rig.redis, kMessages);
  rig.start(/*connect_mail=*/false);
  send_all(rig, kMessages);

  // Everything is inside the gatekeeper: received, decided, the permitted ones waiting in the
  // MAIL backlog because no adapter is there to take them.
  REQUIRE(eventually(
      [&] {
        return rig.metric("gk_messages_received_total") == kMessages &&
               rig.metric("gk_messages_backlog") == kForwards;
      },
      20s));
  rig.gk->process().signal(SIGTERM);
  REQUIRE(eventually(
      [&] { return log_has(rig, "stopping: deciding what was taken (0 held, 1500 waiting"); }));
  // The drain waits for the adapter (egress.drain_timeout_ms) instead of exiting.
  CHECK(rig.gk->process().running());

  rig.connect_mail_adapter();
  const Outcomes got = rig.collect(kMessages);
  check_every_message_once(got, rig.duplicates(), kMessages);
  const auto rc = rig.gk->process().wait(15s);
  REQUIRE(rc);
  CHECK(*rc == 0);
  CHECK(log_has(rig, "drained: received=2000 forwarded=1500 suppressed=500 rejected=0 held=0"));
}

TEST_CASE("e2e: SIGTERM with intake paused decides what still waits in the receive queue",
          "[e2e][drain]") {
  constexpr int kMessages = 1200;
  Rig rig;
  rig.opts.channel_backlog = 300;
  seed_opt_outs(rig.redis, kMessages);
  rig.start(/*connect_mail=*/false);
  send_all(rig, kMessages);

  // The MAIL backlog is full, so intake paused with messages still queued on the ingress
  // socket: the drain must take those too, not only what was decided before the signal.
  // (The batch that filled it still lands behind the limit, so the backlog may pass 300.)
  REQUIRE(eventually(
      [&] {
        return rig.metric("gk_intake_pauses_total") >= 1 &&
               rig.metric("gk_messages_backlog") >= 300;
      },
      20s));
  const double taken = rig.metric("gk_messages_received_total");
  CHECK(taken < kMessages);
  rig.gk->process().signal(SIGTERM);
  REQUIRE(eventually([&] { return log_has(rig, "stopping: deciding what was taken"); }));
  CHECK(rig.metric("gk_messages_received_total") == taken);

  rig.connect_mail_adapter();
  const Outcomes got = rig.collect(kMessages);
  check_every_message_once(got, rig.duplicates(), kMessages);
  const auto rc = rig.gk->process().wait(15s);
  REQUIRE(rc);
  CHECK(*rc == 0);
  CHECK(log_has(rig, "drained: received=1200 forwarded=900 suppressed=300 rejected=0 held=0"));
}

TEST_CASE("e2e: SIGINT with messages held while Redis is down decides them once it is back",
          "[e2e][drain][outage]") {
  constexpr int kMessages = 200;
  Rig rig(/*persistent_redis=*/true);
  rig.opts.hold_max_wait_ms = 60000;
  seed_opt_outs(rig.redis, kMessages);
  rig.start();
  rig.redis.stop();
  REQUIRE(rig.gk->wait_ready(503));
  send_all(rig, kMessages);

  // Every message is taken and held: nothing can be decided without the store.
  REQUIRE(eventually(
      [&] {
        return rig.metric("gk_messages_received_total") == kMessages &&
               rig.metric("gk_messages_held") == kMessages;
      },
      20s));
  rig.gk->process().signal(SIGINT);
  REQUIRE(eventually(
      [&] { return log_has(rig, "stopping: deciding what was taken (200 held, 0 waiting"); }));
  // The held messages wait for Redis until their deadline instead of being dropped.
  CHECK(!rig.mail->receive(200ms));
  CHECK(rig.gk->process().running());

  rig.redis.start();
  const Outcomes got = rig.collect(kMessages);
  check_every_message_once(got, rig.duplicates(), kMessages);
  const auto rc = rig.gk->process().wait(15s);
  REQUIRE(rc);
  CHECK(*rc == 0);
  CHECK(log_has(rig, "drained: received=200 forwarded=150 suppressed=50 rejected=0 held=0"));
}

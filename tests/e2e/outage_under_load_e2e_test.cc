// A Redis outage in the middle of a stream: no wrong forward, every message exactly once.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "tests/support/ports.h"
#include "tests/support/rig.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr int kPeople = 200;
// Every 4th person has opted out of MAIL, every 7th is blacklisted.
bool opted_out(int p) {
  return p % 4 == 0;
}
bool blacklisted(int p) {
  return p % 7 == 0;
}

}  // namespace

TEST_CASE("outage under load: Redis killed and restarted while messages flow",
          "[e2e][outage][load]") {
  Rig rig(/*persistent_redis=*/true);
  rig.opts.hold_max_wait_ms = 60000;
  for (int p = 0; p < kPeople; ++p) {
    if (opted_out(p)) rig.redis.hset("gk:u::p" + std::to_string(p), "MAIL", "1");
    if (blacklisted(p)) rig.redis.hset("gk:u::p" + std::to_string(p), "BLACKLIST", "1");
  }
  rig.start();

  constexpr int kMessages = 6000;
  std::atomic<int> sent{0};
  std::thread sender([&] {
    // A steady stream of about 3 s, so the outage falls in the middle of it.
    for (int i = 0; i < kMessages; ++i) {
      const int p = i % kPeople;
      rig.sender->send(header("m" + std::to_string(i), "MAIL", {{"id", "p" + std::to_string(p)}},
                              {{"to", "a@x"}}),
                       "p");
      sent = i + 1;
      if (i % 20 == 0) std::this_thread::sleep_for(10ms);
    }
  });
  REQUIRE(eventually([&] { return sent.load() > kMessages / 4; }, 10s));
  rig.redis.stop();
  CHECK(rig.gk->wait_ready(503));
  REQUIRE(eventually([&] { return rig.metric("gk_messages_held") > 0; }, 10s));
  std::this_thread::sleep_for(300ms);  // the outage lasts a while: not a synchronisation
  rig.redis.start();
  CHECK(rig.gk->wait_ready(200));
  sender.join();

  const Outcomes got = rig.collect(kMessages, 10s);
  CHECK(rig.duplicates() == 0);
  REQUIRE(got.size() == static_cast<std::size_t>(kMessages));
  int wrong = 0, forwarded = 0, suppressed = 0;
  for (int i = 0; i < kMessages; ++i) {
    const int p = i % kPeople;
    const std::string& where = got.at("m" + std::to_string(i));
    const std::string expect = blacklisted(p) ? "suppressed/blacklisted"
                               : opted_out(p) ? "suppressed/opt_out:MAIL"
                                              : "MAIL";
    if (where != expect) {
      ++wrong;
      UNSCOPED_INFO("m" << i << " (p" << p << "): " << where << ", expected " << expect);
    }
    (where == "MAIL" ? forwarded : suppressed)++;
  }
  CHECK(wrong == 0);
  CHECK(rig.metric("gk_messages_received_total") == kMessages);
  CHECK(rig.metric("gk_messages_held") == 0);
  CHECK(rig.metric("gk_messages_held_total") > 0);
  CHECK(rig.metric("gk_redis_connects_total") >= 2);
  CHECK(rig.metric("gk_redis_errors_total") >= 1);
}

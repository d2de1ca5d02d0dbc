// The status cache seen from outside: misses parked and resumed in order, counters conserved.
#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "tests/support/ports.h"
#include "tests/support/rig.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("cache: a burst of misses keeps each person's order and conserves every message",
          "[e2e][cache]") {
  Rig rig;
  constexpr int kPeople = 300;
  constexpr int kPerPerson = 10;
  for (int p = 0; p < kPeople; p += 3) rig.redis.hset("gk:u::p" + std::to_string(p), "SMS", "1");
  rig.opts.batch_size = 64;  // several batches, each with its own round of fetches
  rig.start();

  // Interleaved: message k of every person, then message k+1 of every person, ...
  for (int k = 0; k < kPerPerson; ++k) {
    for (int p = 0; p < kPeople; ++p) {
      const std::string id = "p" + std::to_string(p) + "-" + std::to_string(k);
      rig.sender->send(header(id, "MAIL", {{"id", "p" + std::to_string(p)}}, {{"to", "a@x"}}), "p");
    }
  }
  std::map<std::string, std::vector<int>> order;  // person -> sequence numbers as delivered
  int delivered = 0;
  while (delivered < kPeople * kPerPerson) {
    auto f = rig.mail->receive(5s);
    REQUIRE(f);
    const std::string id = unpack((*f)[0])["id"];
    const auto dash = id.find('-');
    order[id.substr(0, dash)].push_back(std::stoi(id.substr(dash + 1)));
    ++delivered;
  }
  for (const auto& [person, seq] : order) {
    INFO(person);
    CHECK(seq == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  }
  CHECK(!rig.decisions->receive(100ms));  // SMS opt-outs do not touch MAIL

  const double received = rig.metric("gk_messages_received_total");
  CHECK(received == kPeople * kPerPerson);
  CHECK(rig.metric("gk_messages_forwarded_total") + rig.metric("gk_messages_suppressed_total") +
            rig.metric("gk_messages_rejected_total") + rig.metric("gk_messages_held") ==
        received);
  // Each person was fetched once, then answered from the cache.
  CHECK(rig.metric("gk_cache_entries") == kPeople);
  CHECK(rig.metric("gk_cache_hits_total") >= kPeople * kPerPerson);
}

TEST_CASE("cache: with caching off every batch still reads Redis and decides correctly",
          "[e2e][cache]") {
  Rig rig;
  rig.opts.cache_enabled = false;
  rig.redis.hset("gk:u::out", "MAIL", "1");
  rig.start();
  rig.sender->send(header("a", "MAIL", {{"id", "out"}}, {{"to", "a@x"}}), "p");
  rig.sender->send(header("b", "MAIL", {{"id", "in"}}, {{"to", "a@x"}}), "p");
  const Outcomes got = rig.collect(2);
  CHECK(got == Outcomes{{"a", "suppressed/opt_out:MAIL"}, {"b", "MAIL"}});
  rig.redis.hset("gk:u::out", "MAIL", "0");
  rig.sender->send(header("c", "MAIL", {{"id", "out"}}, {{"to", "a@x"}}), "p");
  CHECK(rig.collect(1) == Outcomes{{"c", "MAIL"}});
  CHECK(rig.metric("gk_cache_entries") == 0);
}

TEST_CASE("cache: a dropped invalidation link empties the cache and decisions stay right",
          "[e2e][cache]") {
  Rig rig;
  rig.start();
  rig.sender->send(header("a", "MAIL", {{"id", "u1"}}, {{"to", "a@x"}}), "p");
  REQUIRE(rig.collect(1) == Outcomes{{"a", "MAIL"}});
  // The loop publishes its gauges after the batch, so a message can arrive before them.
  REQUIRE(eventually([&] { return rig.metric("gk_cache_entries") == 1; }));
  rig.redis.command({"CLIENT", "KILL", "TYPE", "pubsub"});
  REQUIRE(eventually([&] { return rig.metric("gk_cache_flushes_total") >= 1; }));
  // The write below happens while nobody tracks u1; the refilled cache must still see it.
  rig.redis.hset("gk:u::u1", "MAIL", "1");
  REQUIRE(rig.gk->wait_ready(200));
  rig.sender->send(header("b", "MAIL", {{"id", "u1"}}, {{"to", "a@x"}}), "p");
  CHECK(rig.collect(1) == Outcomes{{"b", "suppressed/opt_out:MAIL"}});
}

// StatusReader against a real redis-server: tracking, invalidation and link loss.
#include <catch2/catch.hpp>

#include "common/store/status_reader.h"
#include "tests/support/ports.h"
#include "tests/support/reader_support.h"
#include "tests/support/redis_server.h"

using namespace gk;
using namespace gk::test;
using namespace std::chrono_literals;

namespace {

struct ReaderRig {
  RedisServer redis;
  ChannelRegistry channels{{ChannelConfig{"MAIL", {"EMAIL"}, "tcp://x:1", true, 1},
                            ChannelConfig{"SMS", {}, "tcp://x:2", true, 1}}};
  CacheConfig cache;
  std::unique_ptr<StatusReader> reader;

  ReaderRig() {
    reader = std::make_unique<StatusReader>(redis.config(), cache, channels);
    const Status connected = reader->connect();
    INFO(connected.error());
    REQUIRE(connected);
  }

  // Resolves like the message loop does: cache first, then one pipelined fetch.
  OptOutRecord lookup(const PersonRef& p) {
    auto r = gk::test::lookup(*reader, p);
    INFO(r.error());
    REQUIRE(r);
    return *r;
  }
};

}  // namespace

TEST_CASE("status reader: a person with no keys is cached as not opted out", "[reader]") {
  ReaderRig rig;
  const PersonRef p{"", "nobody", ""};
  CHECK(rig.lookup(p) == OptOutRecord{});
  OptOutRecord r;
  CHECK(rig.reader->resolve(p, r));
  CHECK(rig.reader->stats().keys_fetched == 1);
}

TEST_CASE("status reader: a write by another client invalidates within a deadline", "[reader]") {
  ReaderRig rig;
  const PersonRef p{"", "u1", ""};
  CHECK_FALSE(rig.lookup(p).opted_out(0));
  rig.redis.hset("gk:u::u1", "MAIL", "1");
  REQUIRE(evicted(*rig.reader, p));
  CHECK(rig.lookup(p).opted_out(0));
  CHECK(rig.reader->stats().invalidations >= 1);
}

TEST_CASE("status reader: FLUSHALL empties the cache", "[reader]") {
  ReaderRig rig;
  rig.redis.hset("gk:u::u1", "ALL", "1");
  CHECK(rig.lookup({"", "u1", ""}).all);
  rig.redis.command({"FLUSHALL"});
  REQUIRE(evicted(*rig.reader, {"", "u1", ""}));
  CHECK_FALSE(rig.lookup({"", "u1", ""}).all);
}

TEST_CASE("status reader: a dropped invalidation link empties the cache", "[reader]") {
  ReaderRig rig;
  CHECK_FALSE(rig.lookup({"", "u1", ""}).all);
  REQUIRE(rig.reader->cache().size() == 1);
  // Kill the subscriber connection from the server side, as a network fault would.
  rig.redis.command({"CLIENT", "KILL", "TYPE", "pubsub"});
  REQUIRE(eventually([&] { return !drain_ready(*rig.reader); }));
  CHECK_FALSE(rig.reader->connected());
  CHECK(rig.reader->cache().size() == 0);
  REQUIRE(rig.reader->connect());
  rig.redis.hset("gk:u::u1", "ALL", "1");
  CHECK(rig.lookup({"", "u1", ""}).all);
}

TEST_CASE("status reader: a lead's email link brings in the user's record", "[reader]") {
  ReaderRig rig;
  rig.redis.hset("gk:l:bu:lead@x.com", "SMS", "1");
  rig.redis.command({"SET", "gk:id:bu:lead@x.com", "u7"});
  rig.redis.hset("gk:u:bu:u7", "MAIL", "1");
  const auto r = rig.lookup({"bu", "", "Lead@X.com"});
  CHECK(r.opted_out(0));
  CHECK(r.opted_out(1));
  SECTION("a change to the linked user is seen through the email") {
    rig.redis.hset("gk:u:bu:u7", "MAIL", "0");
    REQUIRE(evicted(*rig.reader, {"bu", "", "lead@x.com"}));
    CHECK_FALSE(rig.lookup({"bu", "", "lead@x.com"}).opted_out(0));
  }
}

TEST_CASE("status reader: a direct write to a lead's key changes the cached status",
          "[reader][lead]") {
  ReaderRig rig;
  const PersonRef lead{"bu1", "", "Lead@X.com"};
  // Cached as not opted out; the write below is made by another client, straight to the key.
  CHECK(rig.lookup(lead) == OptOutRecord{});
  OptOutRecord cached;
  REQUIRE(rig.reader->resolve(lead, cached));
  const auto before = rig.reader->stats().invalidations;

  rig.redis.hset("gk:l:bu1:lead@x.com", "MAIL", "1");
  // The next lookups see the new value once the invalidation is applied; poll with a deadline.
  CHECK(eventually([&] { return drain_ready(*rig.reader) && rig.lookup(lead).opted_out(0); }));
  CHECK(rig.reader->stats().invalidations > before);
  CHECK_FALSE(rig.lookup(lead).opted_out(1));

  SECTION("an ALL opt-out written later is seen too") {
    rig.redis.hset("gk:l:bu1:lead@x.com", "ALL", "1");
    CHECK(eventually([&] { return drain_ready(*rig.reader) && rig.lookup(lead).all; }));
  }
  SECTION("deleting the key clears the cached opt-out") {
    rig.redis.command({"DEL", "gk:l:bu1:lead@x.com"});
    CHECK(
        eventually([&] { return drain_ready(*rig.reader) && rig.lookup(lead) == OptOutRecord{}; }));
  }
}

TEST_CASE("status reader: a lead without a business unit is invalidated on its own key",
          "[reader][lead]") {
  ReaderRig rig;
  const PersonRef lead{"", "", "solo@x.com"};
  CHECK_FALSE(rig.lookup(lead).opted_out(1));
  rig.redis.hset("gk:l::solo@x.com", "SMS", "1");
  CHECK(eventually([&] { return drain_ready(*rig.reader) && rig.lookup(lead).opted_out(1); }));
}

TEST_CASE("status reader: a key of the wrong type is a store error, never 'not opted out'",
          "[reader]") {
  ReaderRig rig;
  rig.redis.command({"SET", "gk:u::weird", "1"});
  rig.reader->want({"", "weird", ""});
  const Status fetched = rig.reader->fetch();
  CHECK_FALSE(fetched);
  CHECK(fetched.error().find("WRONGTYPE") != std::string::npos);
}

TEST_CASE("status reader: a stopped server fails the fetch and reconnects after restart",
          "[reader]") {
  ReaderRig rig;
  CHECK_FALSE(rig.lookup({"", "u1", ""}).all);
  rig.redis.stop();
  rig.reader->want({"", "u2", ""});
  CHECK_FALSE(rig.reader->fetch());
  CHECK_FALSE(rig.reader->connected());
  CHECK(rig.reader->cache().size() == 0);
  rig.redis.start();
  REQUIRE(rig.reader->connect());
  rig.redis.hset("gk:u::u2", "SMS", "1");
  CHECK(rig.lookup({"", "u2", ""}).opted_out(1));
}

TEST_CASE("status reader: a tracking link that died is noticed at the next ping", "[reader]") {
  ReaderRig rig;
  CHECK_FALSE(rig.lookup({"", "u1", ""}).all);
  REQUIRE(rig.reader->cache().size() == 1);
  // The tracking client is the one with the tracking flag ('t') and no subscription; killing
  // it stops the announcements without any message to the subscriber.
  const auto list = rig.redis.text({"CLIENT", "LIST"});
  REQUIRE(list);
  const std::string& text = *list;
  std::string tracker_id;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = text.find('\n', at);
    const std::string line = text.substr(at, end - at);
    at = end == std::string::npos ? text.size() : end + 1;
    const auto flags = line.find(" flags=");
    if (flags == std::string::npos) continue;
    const std::string f = line.substr(flags + 7, line.find(' ', flags + 7) - flags - 7);
    if (f.find('t') != std::string::npos && f.find('P') == std::string::npos) {
      tracker_id = line.substr(3, line.find(' ') - 3);  // "id=<n> ..."
    }
  }
  INFO(text);
  REQUIRE_FALSE(tracker_id.empty());
  REQUIRE(rig.redis.command({"CLIENT", "KILL", "ID", tracker_id})->integer == 1);
  CHECK_FALSE(rig.reader->ping());
  CHECK_FALSE(rig.reader->connected());
  CHECK(rig.reader->cache().size() == 0);
}

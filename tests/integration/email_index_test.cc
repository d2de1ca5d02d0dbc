// The reader's email index (common/store/email_index.h) against a real redis-server and a
// real Redis Cluster: what exists before the start is found by the scan, what is written
// later is heard, it is trusted only once complete, and a message for an email without a
// lead record or link costs one Redis read instead of three.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "common/redis/cluster_slots.h"
#include "common/store/address_book.h"
#include "common/store/key_schema.h"
#include "common/store/status_reader.h"
#include "tests/support/ports.h"
#include "tests/support/reader_support.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"

using namespace gk;
using namespace gk::test;

namespace {

const ChannelRegistry& channels() {
  static const ChannelRegistry registry{{ChannelConfig{"MAIL", {"EMAIL"}, "tcp://x:1", true, 1},
                                         ChannelConfig{"SMS", {}, "tcp://x:2", true, 1}}};
  return registry;
}

constexpr std::size_t kMail = 0;

// Runs the reader's turn (tick, then the invalidations) until the index is ready.
bool index_ready(StatusReader& reader) {
  return eventually([&] {
    reader.tick();
    return drain_ready(reader) && reader.email_index().ready();
  });
}

OptOutRecord looked_up(StatusReader& reader, const PersonRef& p) {
  auto r = lookup(reader, p);
  INFO(r.error());
  REQUIRE(r);
  return *r;
}

struct IndexRig {
  RedisServer redis;
  std::unique_ptr<StatusReader> reader;

  void start(const std::string& prefix = "gk:") {
    RedisConfig config = redis.config();
    config.key_prefix = prefix;
    reader = std::make_unique<StatusReader>(config, CacheConfig{}, channels());
    const Status connected = reader->connect();
    INFO(connected.error());
    REQUIRE(connected);
  }
  std::uint64_t keys_fetched() const { return reader->stats().keys_fetched; }
};

}  // namespace

TEST_CASE("email index: leads and links stored before the start are found by the scan",
          "[reader][email-index]") {
  IndexRig rig;
  const std::string prefix = GENERATE(std::string("gk:"), std::string("t*[1]?:"));
  INFO("key prefix " << prefix);
  rig.redis.hset(prefix + "l:eu:ann@x.y", "MAIL", "1");
  rig.redis.command({"SET", prefix + "id:eu:bob@x.y", "u9"});
  rig.redis.hset(prefix + "u:eu:u9", "ALL", "1");
  // Keys that only look alike are no leads or links.
  rig.redis.hset(prefix + "u:eu:carol@x.y", "MAIL", "1");
  rig.start(prefix);
  REQUIRE(index_ready(*rig.reader));
  CHECK(rig.reader->email_index().size() == 2);

  CHECK(looked_up(*rig.reader, {"eu", "", "ann@x.y"}).opted_out(kMail));
  CHECK(looked_up(*rig.reader, {"eu", "", "Bob@X.y"}).all);
  // An email with neither: only the user's record is read, and the email's absence is not
  // even probed on the next message.
  const auto before = rig.keys_fetched();
  CHECK_FALSE(looked_up(*rig.reader, {"eu", "u1", "carol@x.y"}).opted_out(kMail));
  CHECK(rig.keys_fetched() == before + 1);
  OptOutRecord r;
  CHECK(rig.reader->resolve({"eu", "u1", "carol@x.y"}, r));
}

TEST_CASE("email index: before it is ready every key is read", "[reader][email-index]") {
  IndexRig rig;
  rig.start();
  // No tick yet: no scan, so no trust in absences.
  REQUIRE_FALSE(rig.reader->email_index().ready());
  const auto before = rig.keys_fetched();
  (void)looked_up(*rig.reader, {"eu", "u1", "dan@x.y"});
  CHECK(rig.keys_fetched() == before + 3);  // user, lead and link
}

TEST_CASE("email index: a lead or link written later is heard, and decides the next message",
          "[reader][email-index]") {
  IndexRig rig;
  rig.start();
  REQUIRE(index_ready(*rig.reader));
  const PersonRef dan{"eu", "u1", "Dan@x.y"};
  CHECK_FALSE(looked_up(*rig.reader, dan).opted_out(kMail));

  SECTION("a lead record") {
    rig.redis.hset("gk:l:eu:dan@x.y", "MAIL", "1");
    CHECK(eventually(
        [&] { return drain_ready(*rig.reader) && looked_up(*rig.reader, dan).opted_out(kMail); }));
  }
  SECTION("a link to a user who opted out") {
    rig.redis.hset("gk:u:eu:u7", "ALL", "1");
    rig.redis.command({"SET", "gk:id:eu:dan@x.y", "u7"});
    CHECK(eventually([&] { return drain_ready(*rig.reader) && looked_up(*rig.reader, dan).all; }));
  }
  CHECK(rig.reader->email_index().ready());
  CHECK(rig.reader->email_index().size() == 1);
}

TEST_CASE("email index: FLUSHALL and a lost link make it scan again before it is trusted",
          "[reader][email-index]") {
  IndexRig rig;
  rig.start();
  REQUIRE(index_ready(*rig.reader));
  const auto scans = rig.reader->stats().email_index_scans;

  SECTION("FLUSHALL") {
    rig.redis.command({"FLUSHALL"});
    REQUIRE(
        eventually([&] { return drain_ready(*rig.reader) && !rig.reader->email_index().ready(); }));
  }
  SECTION("a lost invalidation link") {
    rig.redis.command({"CLIENT", "KILL", "TYPE", "pubsub"});
    REQUIRE(eventually([&] { return !drain_ready(*rig.reader); }));
    REQUIRE_FALSE(rig.reader->email_index().ready());
    REQUIRE(rig.reader->connect());
  }
  // A lead stored meanwhile is found by the new scan.
  rig.redis.hset("gk:l:eu:eve@x.y", "SMS", "1");
  REQUIRE(index_ready(*rig.reader));
  CHECK(rig.reader->stats().email_index_scans == scans + 1);
  CHECK(looked_up(*rig.reader, {"eu", "u2", "eve@x.y"}).opted_out(1));
}

TEST_CASE("email index: on a Redis Cluster every primary is scanned",
          "[reader][email-index][cluster]") {
  RedisCluster cluster(3, 0);
  RedisConfig config;
  config.cluster = cluster.seeds();
  // One lead on each primary.
  std::vector<std::string> emails;
  for (int port : cluster.primary_ports()) {
    for (int i = 0;; ++i) {
      const std::string email = "p" + std::to_string(port) + "-" + std::to_string(i) + "@x.y";
      std::string key;
      KeySchema("gk:", true).lead(key, "", email);
      if (cluster.primary_port_for_slot(key_slot(key)) != port) continue;
      cluster.command(port, {"HSET", key, "MAIL", "1"});
      emails.push_back(email);
      break;
    }
  }
  StatusReader reader(config, CacheConfig{}, channels());
  REQUIRE(reader.connect());
  REQUIRE(index_ready(reader));
  CHECK(reader.email_index().size() == 3);
  for (const std::string& email : emails) {
    INFO(email);
    CHECK(looked_up(reader, {"", "", email}).opted_out(kMail));
  }
}

TEST_CASE("email index and address book: on a single server they read the configured database",
          "[reader][email-index][addresses]") {
  RedisServer redis;
  RedisConfig config = redis.config();
  config.db = 3;
  // Stored in database 3 before anything starts; database 0 holds a decoy of each.
  for (const std::string db : {"3", "0"}) {
    redis.command({"SELECT", db});  // the rig's own connection
    const std::string mark = db == "3" ? "" : "decoy-";
    redis.command({"HSET", "gk:l:eu:" + mark + "ann@x.y", "MAIL", "1"});
    redis.command({"HSET", "gk:a:MAIL:" + mark + "bounced@x.y", "suppressed", "1", "reason",
                   "bounce", "suppressed:ts", "1764000000000"});
  }

  StatusReader reader(config, CacheConfig{}, channels());
  REQUIRE(reader.connect());
  REQUIRE(index_ready(reader));
  CHECK(reader.email_index().size() == 1);
  CHECK(looked_up(reader, {"eu", "u1", "ann@x.y"}).opted_out(kMail));

  AddressBook book(config);
  book.start();
  REQUIRE(eventually([&] { return book.synced(); }));
  const auto state = book.snapshot();
  REQUIRE(state);
  CHECK(state->addresses.size() == 1);
  CHECK(state->addresses.contains(std::string_view("MAIL:bounced@x.y")));
  book.stop();
}

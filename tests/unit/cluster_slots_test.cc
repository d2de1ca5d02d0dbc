// Slot arithmetic of Redis Cluster and the key layout built on it (no server involved; the
// integration tests compare key_slot with CLUSTER KEYSLOT of a real node).
#include "common/redis/cluster_slots.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <set>
#include <string>

#include "common/store/key_schema.h"

using namespace gk;

namespace {

// An error reply as hiredis would hand it over, for the redirect parser.
struct ErrorReply {
  std::string text;
  redisReply reply{};
  explicit ErrorReply(std::string t) : text(std::move(t)) {
    reply.type = REDIS_REPLY_ERROR;
    reply.str = text.data();
    reply.len = text.size();
  }
};

}  // namespace

TEST_CASE("cluster slots: CRC16 is the XMODEM variant the cluster specification names",
          "[cluster]") {
  CHECK(crc16("123456789") == 0x31C3);
  CHECK(crc16("") == 0);
}

TEST_CASE("cluster slots: a hash tag decides the slot only when it is not empty", "[cluster]") {
  CHECK(key_slot("{user1000}.following") == key_slot("{user1000}.followers"));
  CHECK(key_slot("{user1000}.following") == key_slot("user1000"));
  CHECK(key_slot("foo{bar}{zap}") == key_slot("bar"));           // the first tag only
  CHECK(key_slot("foo{{bar}}zap") == key_slot("{bar"));          // up to the first '}'
  CHECK(key_slot("foo{}{bar}") == crc16("foo{}{bar}") % 16384);  // empty: whole key
  CHECK(key_slot("foo}{bar") == crc16("foo}{bar") % 16384);      // '}' before '{' is no tag
  CHECK(key_slot("gk:u::u1") < kClusterSlots);
}

TEST_CASE("cluster slots: every slot has a short tag that hashes to it", "[cluster]") {
  std::set<std::string> seen;
  for (std::uint16_t slot = 0; slot < kClusterSlots; ++slot) {
    const std::string_view tag = slot_tag(slot);
    REQUIRE_FALSE(tag.empty());
    REQUIRE(tag.size() <= 3);
    REQUIRE(key_slot("x{" + std::string(tag) + "}y") == slot);
    seen.emplace(tag);
  }
  CHECK(seen.size() == kClusterSlots);
}

TEST_CASE("cluster slots: a history key shares the slot of its status hash", "[cluster]") {
  const KeySchema cluster("gk:", true);
  const KeySchema single("gk:", false);
  for (const std::string who : {"u1", "0042", "weird{tag}id", "}{", "x}y{z"}) {
    INFO(who);
    std::string status;
    cluster.user(status, "bu", who);
    const std::string history = cluster.history(false, "bu", who);
    CHECK(key_slot(history) == key_slot(status));
    CHECK(history.starts_with("gk:h:{"));
    CHECK(history.ends_with("}:u:bu:" + who));
  }
  std::string lead;
  cluster.lead(lead, "", "Ann@X.com");
  CHECK(key_slot(cluster.history(true, "", "Ann@X.com")) == key_slot(lead));
  // A single server keeps the plain names.
  CHECK(single.history(false, "bu", "u1") == "gk:h:u:bu:u1");
  CHECK(single.history(true, "", "Ann@X.com") == "gk:h:l::ann@x.com");
}

TEST_CASE("cluster slots: MOVED and ASK redirects are parsed, anything else is not", "[cluster]") {
  const ErrorReply moved("MOVED 3999 127.0.0.1:6381");
  auto r = parse_redirect(&moved.reply);
  REQUIRE(r);
  CHECK_FALSE(r->ask);
  CHECK(r->slot == 3999);
  CHECK(r->node == "127.0.0.1:6381");
  const ErrorReply ask("ASK 0 10.1.2.3:7000");
  r = parse_redirect(&ask.reply);
  REQUIRE(r);
  CHECK(r->ask);
  CHECK(r->slot == 0);
  for (const char* text : {"ERR wrong", "MOVED", "MOVED 16384 h:1", "MOVED x h:1", "MOVED 1 h",
                           "ASK 1 h:0", "MOVED 1 h:99999", "CLUSTERDOWN The cluster is down"}) {
    INFO(text);
    const ErrorReply other(text);
    CHECK_FALSE(parse_redirect(&other.reply));
  }
}

TEST_CASE("cluster slots: node addresses split at the last colon", "[cluster]") {
  auto a = parse_node_address("127.0.0.1:7000");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 7000);
  a = parse_node_address("::1:7000");
  REQUIRE(a);
  CHECK(a->host == "::1");
  a = parse_node_address("[::1]:7001");
  REQUIRE(a);
  CHECK(a->host == "::1");
  CHECK(a->port == 7001);
  CHECK_FALSE(parse_node_address("host"));
  CHECK_FALSE(parse_node_address("host:"));
  CHECK_FALSE(parse_node_address("host:0"));
  CHECK_FALSE(parse_node_address("host:7x"));
}

TEST_CASE("cluster slots: CLUSTER NODES gives every usable node, replicas included", "[cluster]") {
  const std::string text =
      "07c3 127.0.0.1:30004@40004 slave e7d1 0 1426238317239 4 connected\n"
      "67ed 127.0.0.1:30002@40002,host-b master - 0 1426238316232 2 connected 5461-10922\n"
      "292f 127.0.0.1:30003@40003 master - 0 1426238318243 3 connected 10923-16383\n"
      "6ec2 127.0.0.1:30005@40005 slave,fail 67ed 1426238316232 1426238314 5 connected\n"
      "824f :30006@40006 myself,slave 292f 0 0 6 connected\n"
      "e7d1 127.0.0.1:30001@40001 master,fail? - 0 1426238317741 1 connected 0-5460\n"
      "a1b2 127.0.0.1:30007@40007 handshake - 0 0 0 connected\n"
      "c3d4 :0@0 master,noaddr - 0 0 0 disconnected\n"
      "garbage\n";
  const auto nodes = parse_cluster_nodes(text, "10.0.0.9");
  CHECK(nodes == std::vector<std::string>{"127.0.0.1:30004", "127.0.0.1:30002", "127.0.0.1:30003",
                                          "10.0.0.9:30006", "127.0.0.1:30001"});
  CHECK(parse_cluster_nodes("", "h").empty());
}

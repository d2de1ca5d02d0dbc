// The built gatekeeper binary, a real redis-server and real ZeroMQ peers, as a user runs them.
#include <signal.h>
#include <catch2/catch.hpp>

#include <map>

#include "tests/support/gatekeeper_process.h"
#include "tests/support/ports.h"
#include "tests/support/redis_server.h"
#include "tests/support/rig.h"
#include "tests/support/zmq_peers.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("e2e: a permitted message reaches its adapter with byte-identical frames", "[e2e]") {
  Rig rig;
  rig.start();
  const std::string head =
      pack(header("m1", "MAIL", {{"id", "u1"}}, {{"to", "a@example.com"}, {"custom", {1, 2, 3}}}));
  std::string payload(512, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
  rig.sender->send(Frames{head, payload});
  auto got = rig.mail->receive();
  REQUIRE(got);
  CHECK(got->size() == 2);
  CHECK((*got)[0] == head);
  CHECK((*got)[1] == payload);

  SECTION("a header-only message is forwarded as one frame") {
    const std::string only = pack(header("m2", "SMS", {{"id", "u1"}}, {{"to", "+15550100"}}));
    rig.sender->send(Frames{only});
    auto sms = rig.sms->receive();
    REQUIRE(sms);
    CHECK(*sms == Frames{only});
  }
}

TEST_CASE("e2e: every reason of the contract is produced where it applies", "[e2e]") {
  Rig rig;
  rig.redis.hset("gk:u::mail-out", "MAIL", "1");
  rig.redis.hset("gk:u::all-out", "ALL", "1");
  rig.redis.hset("gk:u::black", "BLACKLIST", "1");
  rig.redis.hset("gk:l:bu1:lead@example.com", "SMS", "1");
  rig.start();

  const json rt = {{"type", "realtime"}, {"transactional", true}};
  const json batch_tx = {{"type", "batch"}, {"transactional", true}};
  struct Case {
    json header;
    std::string expect;  // "MAIL", "SMS" or "verdict/reason"
  };
  const std::vector<Case> cases = {
      {header("plain", "MAIL", {{"id", "u1"}}, {{"to", "a@x"}}), "MAIL"},
      {header("chan", "MAIL", {{"id", "mail-out"}}, {{"to", "a@x"}}), "suppressed/opt_out:MAIL"},
      {header("chan-sms", "SMS", {{"id", "mail-out"}}, {{"to", "+1"}}), "SMS"},
      {header("all", "SMS", {{"id", "all-out"}}, {{"to", "+1"}}), "suppressed/opt_out:ALL"},
      {header("black", "MAIL", {{"id", "black"}}, {{"to", "a@x"}, {"campaign", rt}}),
       "suppressed/blacklisted"},
      {header("rt", "MAIL", {{"id", "all-out"}}, {{"to", "a@x"}, {"campaign", rt}}), "MAIL"},
      {header("btx", "MAIL", {{"id", "all-out"}}, {{"to", "a@x"}, {"campaign", batch_tx}}),
       "suppressed/opt_out:ALL"},
      {header("noaddr", "MAIL", {{"id", "u1"}}), "rejected/no_address"},
      {header("fax", "FAX", {{"id", "u1"}}, {{"to", "1"}}), "rejected/unknown_channel"},
      {header("alias", "email", {{"id", "mail-out"}}, {{"to", "a@x"}}), "suppressed/opt_out:MAIL"},
      {header("lead", "sms", {{"email", "Lead@Example.com"}, {"bu", "bu1"}}, {{"to", "+1"}}),
       "suppressed/opt_out:SMS"},
      {header("lead-other-bu", "SMS", {{"email", "lead@example.com"}}, {{"to", "+1"}}), "SMS"},
      {header("both", "SMS", {{"id", "u1"}, {"email", "lead@example.com"}, {"bu", "bu1"}},
              {{"to", "+1"}}),
       "suppressed/opt_out:SMS"},
      {header("bad-user", "MAIL", "not-a-map", {{"to", "a@x"}}), "rejected/malformed"},
  };
  for (const auto& c : cases) rig.sender->send(c.header, "payload");
  rig.sender->send(Frames{"\xc1not msgpack", "p"});
  rig.sender->send(json{{"channel", "MAIL"}, {"user", {{"id", "u1"}}}}, "p");

  std::map<std::string, std::string> outcome;
  std::vector<Frames> malformed;
  for (int got = 0; got < static_cast<int>(cases.size()) + 2; ++got) {
    zmq::pollitem_t items[] = {{rig.mail->socket().handle(), 0, ZMQ_POLLIN, 0},
                               {rig.sms->socket().handle(), 0, ZMQ_POLLIN, 0},
                               {rig.decisions->socket().handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 3, 5000ms);
    if (items[0].revents & ZMQ_POLLIN) {
      auto f = rig.mail->receive(0ms);
      outcome[unpack((*f)[0])["id"]] = "MAIL";
    } else if (items[1].revents & ZMQ_POLLIN) {
      auto f = rig.sms->receive(0ms);
      outcome[unpack((*f)[0])["id"]] = "SMS";
    } else if (items[2].revents & ZMQ_POLLIN) {
      auto f = rig.decisions->receive(0ms);
      REQUIRE(f->size() == 3);
      const json d = unpack((*f)[0]);
      CHECK(d.contains("channel"));
      const std::string key = d["id"];
      if (key.empty()) {
        malformed.push_back(*f);
      } else {
        outcome[key] = d["verdict"].get<std::string>() + "/" + d["reason"].get<std::string>();
        CHECK((*f)[2] == "payload");
      }
    } else {
      FAIL("no outcome within 5 s after " << got << " outcomes");
    }
  }
  for (const auto& c : cases) {
    const std::string id = c.header.value("id", "");
    INFO("message " << (id.empty() ? "(no id)" : id));
    CHECK(outcome[id] == c.expect);
  }
  // Neither can name an id: the contract's empty id, the original frames, and why.
  REQUIRE(malformed.size() == 2);
  for (const auto& m : malformed) {
    const json d = unpack(m[0]);
    CHECK(d["verdict"] == "rejected");
    CHECK(d["reason"] == "malformed");
    CHECK(d.value("detail", "") != "");
  }
  CHECK(malformed[0][1] == "\xc1not msgpack");
}

TEST_CASE("e2e: a write by another Redis client takes effect without a restart", "[e2e]") {
  Rig rig;
  rig.start();
  rig.sender->send(header("before", "MAIL", {{"id", "u9"}}, {{"to", "a@x"}}), "p");
  REQUIRE(rig.mail->receive());
  rig.redis.hset("gk:u::u9", "MAIL", "1");
  int n = 0;
  // The cache learns of the write through Redis's invalidation; poll with a deadline.
  const bool suppressed = eventually(
      [&] {
        rig.sender->send(
            header("after-" + std::to_string(n++), "MAIL", {{"id", "u9"}}, {{"to", "a@x"}}), "p");
        auto d = rig.decisions->receive(200ms);
        if (!d) {
          rig.mail->receive(200ms);
          return false;
        }
        return unpack((*d)[0])["reason"] == "opt_out:MAIL";
      },
      5s);
  CHECK(suppressed);
}

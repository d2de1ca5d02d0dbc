// Identity through the built binary (common/identity.h, docs/API.md "Identity"): tenants
// stay apart on every entry point, a header key in doubt is refused, a padded email is the
// same person, and a broken body's bytes stay out of the answer and the log.
#include <httplib.h>
#include <catch2/catch.hpp>
#include <msgpack.hpp>

#include <string>
#include <utility>
#include <vector>

#include "tests/support/api_rig.h"
#include "tests/support/ports.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A header packed by hand, so a key may repeat: (key, value) pairs at the top level, where a
// value that is a JSON object becomes a map of its (possibly repeated) pairs given as an array.
std::string raw_header(const std::vector<std::pair<std::string, json>>& entries) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  p.pack_map(static_cast<std::uint32_t>(entries.size()));
  for (const auto& [key, value] : entries) {
    p.pack(key);
    if (value.is_string()) {
      p.pack(value.get<std::string>());
      continue;
    }
    p.pack_map(static_cast<std::uint32_t>(value.size()));  // [[k, v], ...]
    for (const json& kv : value) {
      p.pack(kv[0].get<std::string>());
      p.pack(kv[1].get<std::string>());
    }
  }
  return {buffer.data(), buffer.size()};
}

void expect_400(const ApiAnswer& a, const std::string& field, const std::string& error) {
  INFO(a.body.dump());
  CHECK(a.status == 400);
  CHECK(a.body["field"] == field);
  CHECK(a.body["type"] == "INVALID_VALUE");
  CHECK(a.body["error"] == error);
}

}  // namespace

TEST_CASE("e2e identity: an opt-in in tenant \"T:b\" cannot clear tenant T's opt-out",
          "[e2e][identity]") {
  ApiRig rig;
  rig.start();
  // Tenant T's person "b:X" opts out; ':' in an external id is fine.
  REQUIRE(
      rig.call("PUT", "/users/b:X/optout-status?businessUnit=T", R"({"optOut": true})").status ==
      200);
  REQUIRE(rig.hget("gk:u:T:b:X", "ALL") == "1");
  REQUIRE(rig.probe_socket());
  REQUIRE(rig.seen.size() == 1);  // the API's own system event
  rig.seen.clear();
  const json victim = {{"id", "b:X"}, {"bu", "T"}};
  REQUIRE(rig.eventually_outcome("suppressed/opt_out:ALL", "MAIL", victim));

  // Person "X" of a business unit "T:b" would share the key gk:u:T:b:X: refused everywhere.
  expect_400(rig.call("PUT", "/users/X/optout-status?businessUnit=T%3Ab", R"({"optOut": false})"),
             "businessUnit", "businessUnit must not contain ':'");
  expect_400(rig.call("GET", "/users/X/optout-status?businessUnit=T%3Ab"), "businessUnit",
             "businessUnit must not contain ':'");
  const std::string opt_in =
      R"({"id": "X", "businessUnit": "T:b", "events": [{"event": "Opt In", "channel.type": "ALL"}]})";
  expect_400(rig.call("POST", "/events", opt_in), "businessUnit",
             "businessUnit must not contain ':'");
  rig.events->send(Frames{opt_in});
  rig.events->send(Frames{pack(json::parse(opt_in))});  // msgpack
  REQUIRE(rig.probe_socket());
  CHECK(rig.seen.empty());  // no system event for the refused bodies
  const std::string id = "tenant-msg";
  const json d = rig.decide(
      pack({{"id", id}, {"channel", "MAIL"}, {"user", {{"id", "X"}, {"bu", "T:b"}}}, {"to", "a"}}),
      id);
  CHECK(d["verdict"] == "rejected");
  CHECK(d["reason"] == "malformed");
  CHECK(d["detail"] == "header `user.bu` must not contain ':'");

  // The opt-out stands.
  CHECK(rig.hget("gk:u:T:b:X", "ALL") == "1");
  CHECK(rig.outcome("MAIL", victim) == "suppressed/opt_out:ALL");
  CHECK(rig.call("GET", "/users/b:X/optout-status?businessUnit=T").body["optOut"] == true);
  const std::string log = rig.gk->log();
  CHECK(log.find("businessUnit must not contain ':'") != std::string::npos);  // socket refusal
}

TEST_CASE("e2e identity: other separators and sizes are refused on every entry point",
          "[e2e][identity]") {
  ApiRig rig;
  rig.start();
  struct Bad {
    const char* what;
    std::string bu;        // raw
    std::string bu_query;  // URL-encoded
    const char* error;
  };
  const Bad bads[] = {
      {"newline", "T\n", "T%0A", "businessUnit must not contain whitespace"},
      {"tab", "T\tb", "T%09b", "businessUnit must not contain whitespace"},
      {"space", "T b", "T%20b", "businessUnit must not contain whitespace"},
      {"too long", std::string(65, 'b'), std::string(65, 'b'),
       "businessUnit must be at most 64 bytes"},
  };
  for (const Bad& b : bads) {
    INFO(b.what);
    expect_400(rig.call("PUT", "/users/u1/blacklist-status?businessUnit=" + b.bu_query,
                        R"({"blacklisted": true})"),
               "businessUnit", b.error);
    expect_400(rig.call("GET", "/users/u1/recipient-status?businessUnit=" + b.bu_query),
               "businessUnit", b.error);
    // A lead's business unit, by API and by event.
    expect_400(rig.call("GET", "/leads/optout-history?email=a@b.c&businessUnit=" + b.bu_query),
               "businessUnit", b.error);
    const json body = {{"email", "a@b.c"},
                       {"businessUnit", b.bu},
                       {"events", {{{"event", "Opt Out"}, {"channel.type", "MAIL"}}}}};
    expect_400(rig.call("POST", "/events", body.dump()), "businessUnit", b.error);
    rig.events->send(Frames{body.dump()});
    const std::string id = std::string("sep-") + b.what;
    const json d = rig.decide(
        pack({{"id", id}, {"channel", "MAIL"}, {"user", {{"email", "a@b.c"}, {"bu", b.bu}}}}), id);
    CHECK(d["reason"] == "malformed");
    CHECK(d["detail"] == "header `user.bu` " + std::string(b.error).substr(13));
  }
  const std::string long_id(257, 'x');
  expect_400(rig.call("GET", "/users/" + long_id + "/optout-status"), "externalId",
             "externalId must be at most 256 bytes");
  expect_400(rig.call("POST", "/events",
                      json{{"id", long_id}, {"events", {{{"event", "Opt Out"}}}}}.dump()),
             "id", "id must be at most 256 bytes");
  expect_400(rig.call("GET", "/leads/optout-history?email=nobody"), "email",
             "email must contain exactly one '@'");
  const json d =
      rig.decide(pack({{"id", "long"}, {"channel", "MAIL"}, {"user", {{"id", long_id}}}}), "long");
  CHECK(d["detail"] == "header `user.id` must be at most 256 bytes");

  REQUIRE(rig.probe_socket());
  CHECK(rig.seen.empty());
  // Nothing was written for any of them.
  auto keys = rig.redis.command({"KEYS", "gk:[ulh]*"});
  CHECK(keys->elements == 0);
}

TEST_CASE("e2e identity: a key the gatekeeper reads may appear once in a header",
          "[e2e][identity]") {
  ApiRig rig;
  rig.start();
  // The first `user` is a person who opted out; an adapter taking the first would deliver.
  REQUIRE(rig.call("PUT", "/users/victim/optout-status", R"({"optOut": true})").status == 200);
  const json first_user = json::array({json::array({"id", "victim"})});
  const json second_user = json::array({json::array({"id", "u1"})});
  struct Case {
    const char* what;
    std::vector<std::pair<std::string, json>> entries;
    std::string id;  // the id the decision carries
    const char* detail;
  };
  const std::vector<Case> cases = {
      {"user twice",
       {{"id", "d1"}, {"channel", "MAIL"}, {"user", first_user}, {"user", second_user}},
       "d1",
       "header has two `user` keys"},
      {"user.id twice",
       {{"id", "d2"},
        {"channel", "MAIL"},
        {"user", json::array({json::array({"id", "victim"}), json::array({"id", "u1"})})}},
       "d2",
       "header `user` has two `id` keys"},
      {"id twice",
       {{"id", "d3"}, {"channel", "MAIL"}, {"user", second_user}, {"id", "d3b"}},
       "",
       "header has two `id` keys"},
      {"channel twice",
       {{"id", "d4"}, {"channel", "SMS"}, {"user", second_user}, {"channel", "MAIL"}},
       "d4",
       "header has two `channel` keys"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    rig.sender->send(Frames{raw_header(c.entries), "payload"});
    std::optional<json> decision;
    CHECK(eventually(
        [&] {
          auto f = rig.decisions->receive(50ms);
          if (!f) return false;
          json d = unpack((*f)[0]);
          if (d["detail"] != c.detail) return false;
          decision = std::move(d);
          return true;
        },
        5s));
    REQUIRE(decision);
    CHECK((*decision)["id"] == c.id);
    CHECK((*decision)["verdict"] == "rejected");
    CHECK((*decision)["reason"] == "malformed");
  }
  CHECK_FALSE(rig.mail->receive(200ms));  // none of them was forwarded
}

TEST_CASE("e2e identity: Pat@Example.com with spaces and a newline is pat@example.com",
          "[e2e][identity]") {
  ApiRig rig;
  rig.start();
  const json clean = {{"email", "pat@example.com"}, {"bu", "T"}};
  REQUIRE(rig.outcome("MAIL", clean) == "MAIL");

  REQUIRE(rig.call("POST", "/events", R"({"email": "  Pat@Example.com\n", "businessUnit": "T",
                                          "events": [{"event": "Opt Out", "channel.type": "MAIL"}]})")
              .status == 202);
  REQUIRE(rig.probe_socket());
  REQUIRE(rig.seen.size() == 1);
  CHECK(rig.seen[0]["email"] == "pat@example.com");  // the system event carries the one spelling
  CHECK(rig.hget("gk:l:T:pat@example.com", "MAIL") == "1");
  CHECK(rig.redis.command({"KEYS", "gk:l:*"})->elements == 1);

  CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", clean));
  CHECK(rig.outcome("MAIL", {{"email", " PAT@example.COM\t"}, {"bu", "T"}}) ==
        "suppressed/opt_out:MAIL");

  // The lead's history, asked for with the padded spelling.
  const ApiAnswer h =
      rig.call("GET", "/leads/optout-history?email=%20%20Pat@Example.com%0A&businessUnit=T");
  REQUIRE(h.status == 200);
  REQUIRE(h.body["history"].size() == 1);

  // A padded email on the socket links to the user under the clean key.
  rig.events->send(Frames{pack({{"id", "pat"},
                                {"email", "\tPat@Example.com "},
                                {"businessUnit", "T"},
                                {"events", {{{"event", "Login"}}}}})});
  REQUIRE(rig.probe_socket());
  auto link = rig.redis.command({"GET", "gk:id:T:pat@example.com"});
  REQUIRE(link->type == REDIS_REPLY_STRING);
  CHECK(std::string(link->str) == "pat");
  CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", {{"id", "pat"}, {"bu", "T"}}));
}

TEST_CASE("e2e identity: a broken body's email reaches neither the answer nor the log",
          "[e2e][identity][logging]") {
  ApiRig rig;  // log level debug: stricter than the default info
  rig.start();
  const std::string secret = "secret.person@example.com";
  const std::string broken = R"({"email": ")" + secret + R"(" "events": []})";
  const ApiAnswer a = rig.call("POST", "/events", broken);
  INFO(a.body.dump());
  CHECK(a.status == 400);
  CHECK(a.body["field"] == "body");
  CHECK(a.body["type"] == "INVALID_FORMAT");
  const std::string error = a.body["error"];
  CHECK(error.find("secret.person") == std::string::npos);
  CHECK_THAT(error, Catch::Contains("(at byte "));

  rig.events->send(Frames{broken});
  rig.events->send(Frames{R"({"email": "secret.person@example.com, "events": [{"event": "x"}]})"});
  REQUIRE(rig.probe_socket());
  const std::string log = rig.gk->log();
  CHECK(log.find("not valid JSON") != std::string::npos);  // the refusal was logged
  CHECK(log.find("secret.person") == std::string::npos);
}

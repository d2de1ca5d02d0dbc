// Opt-out management through the built binary: the HTTP API with a real HTTP client, events
// on the real ZeroMQ socket, system events on PUB and in the Redis stream, and their effect
// on the next message (PROTOCOL.md sections 1, 2, 3, 5, 6, 7; docs/API.md).
#include <httplib.h>
#include <catch2/catch.hpp>

#include <map>

#include "tests/support/api_rig.h"
#include "tests/support/ports.h"
#include "tests/support/process.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// The body of PROTOCOL.md section 5, exactly.
constexpr const char* kProtocolBody = R"({ "id": "88c5a896-28bb-44e9-850c-2bf60f01a0f9",
  "events": [ { "event": "Opt Out", "channel.type": "MAIL",
                "timestamp": "2026-11-26T10:15:00.123Z",
                "properties": { "status": "opt out via xy" } } ] })";

// History and stream bounds small enough to reach, a body limit to exceed.
struct ManagementRig : ApiRig {
  ManagementRig() {
    opts.redis_extra = "history_length = 5\nevents_stream_maxlen = 1000";
    opts.http_extra = "max_body_bytes = 4096\nmax_events_per_body = 50";
  }
};

json user(const std::string& id) {
  return {{"id", id}};
}

}  // namespace

TEST_CASE("e2e management: the PROTOCOL.md section 5 body by POST /events", "[e2e][mgmt]") {
  ManagementRig rig;
  rig.start();
  const std::string id = "88c5a896-28bb-44e9-850c-2bf60f01a0f9";
  REQUIRE(rig.outcome("MAIL", user(id)) == "MAIL");

  const ApiAnswer a = rig.call("POST", "/events", kProtocolBody);
  REQUIRE(a.status == 202);
  CHECK(a.body ==
        json::parse(R"({"results": [{"index": 0, "status": "accepted", "changed": true}]})"));

  SECTION("the status is stored with the event's time") {
    CHECK(rig.redis.hget("gk:u::" + id, "MAIL") == "1");
    CHECK(rig.redis.hget("gk:u::" + id, "MAIL:ts") == "1795688100123");
    const ApiAnswer s = rig.call("GET", "/users/" + id + "/optout-status?channelType=MAIL");
    CHECK(s.status == 200);
    CHECK(s.body["optOut"] == true);
    CHECK(s.body["effective"] == true);
  }
  SECTION("the system event is published in two frames and appended to the stream") {
    auto e = rig.next_event();
    REQUIRE(e);
    CHECK(e->topic == "Opt Out");
    CHECK(e->map == json{{"event", "Opt Out"},
                         {"id", id},
                         {"businessUnit", ""},
                         {"channel.type", "MAIL"},
                         {"timestamp", "2026-11-26T10:15:00.123Z"},
                         {"source", "event"},
                         {"changed", true},
                         {"properties", {{"status", "opt out via xy"}}}});
    const auto stream = rig.stream();
    REQUIRE(stream.size() == 1);
    CHECK(stream[0] ==
          std::map<std::string, std::string>{{"event", "Opt Out"},
                                             {"id", id},
                                             {"businessUnit", ""},
                                             {"channel.type", "MAIL"},
                                             {"timestamp", "2026-11-26T10:15:00.123Z"},
                                             {"source", "event"},
                                             {"changed", "true"},
                                             {"properties", R"({"status":"opt out via xy"})"}});
  }
  SECTION("the history records the change with its properties") {
    const ApiAnswer h = rig.call("GET", "/users/" + id + "/optout-history");
    REQUIRE(h.status == 200);
    REQUIRE(h.body["history"].size() == 1);
    const json& entry = h.body["history"][0];
    CHECK(entry["channel"] == "MAIL");
    CHECK(entry["old"] == false);
    CHECK(entry["new"] == true);
    CHECK(entry["applied"] == true);
    CHECK(entry["source"] == "event");
    CHECK(entry["event"] == "Opt Out");
    CHECK(entry["timestamp"] == "2026-11-26T10:15:00.123Z");
    CHECK(entry["properties"]["status"] == "opt out via xy");
  }
  SECTION("the next MAIL message to that person is suppressed, SMS is not") {
    CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", user(id)));
    CHECK(rig.outcome("SMS", user(id)) == "SMS");
  }
  SECTION("the same body again is accepted and changes nothing") {
    const ApiAnswer again = rig.call("POST", "/events", kProtocolBody);
    CHECK(again.status == 202);
    CHECK(again.body["results"][0]["changed"] == false);
  }
}

TEST_CASE("e2e management: the API table of PROTOCOL.md section 7", "[e2e][mgmt]") {
  ManagementRig rig;
  rig.start();
  REQUIRE(rig.outcome("MAIL", user("u1")) == "MAIL");

  SECTION("GET optout-status of a person never seen: false") {
    const ApiAnswer a = rig.call("GET", "/users/u1/optout-status?channelType=MAIL");
    CHECK(a.status == 200);
    CHECK(a.body == json{{"optOut", false}, {"channelType", "MAIL"}, {"effective", false}});
  }
  SECTION("PUT optout-status for a channel, then GET, the event, the next message") {
    const ApiAnswer put =
        rig.call("PUT", "/users/u1/optout-status?channelType=MAIL", R"({"optOut": true})");
    CHECK(put.status == 200);
    CHECK(put.body["optOut"] == true);
    CHECK(put.body["changed"] == true);
    auto e = rig.next_event();
    REQUIRE(e);
    CHECK(e->topic == "Opt Out");
    CHECK(e->map["id"] == "u1");
    CHECK(e->map["channel.type"] == "MAIL");
    CHECK(e->map["source"] == "api");
    CHECK(e->map["changed"] == true);
    CHECK(e->map["timestamp"].get<std::string>().size() == 24);
    CHECK(rig.call("GET", "/users/u1/optout-status?channelType=mail").body["optOut"] == true);
    CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", user("u1")));
    CHECK(rig.outcome("SMS", user("u1")) == "SMS");

    SECTION("PUT false opts back in") {
      const ApiAnswer in =
          rig.call("PUT", "/users/u1/optout-status?channelType=EMAIL", R"({"optOut": false})");
      CHECK(in.status == 200);
      CHECK(in.body["optOut"] == false);
      CHECK(in.body["changed"] == true);
      auto opt_in = rig.next_event();
      REQUIRE(opt_in);
      CHECK(opt_in->topic == "Opt In");
      CHECK(rig.eventually_outcome("MAIL", "MAIL", user("u1")));
    }
    SECTION("PUT the same value again: 200, not changed") {
      const ApiAnswer again =
          rig.call("PUT", "/users/u1/optout-status?channelType=MAIL", R"({"optOut": true})");
      CHECK(again.status == 200);
      CHECK(again.body["changed"] == false);
    }
  }
  SECTION("without channelType: the overall ALL status") {
    const ApiAnswer put = rig.call("PUT", "/users/u1/optout-status", R"({"optOut": true})");
    CHECK(put.status == 200);
    CHECK(put.body["optOut"] == true);
    const ApiAnswer all = rig.call("GET", "/users/u1/optout-status");
    CHECK(all.body == json{{"optOut", true}, {"channelType", "ALL"}, {"effective", true}});
    const ApiAnswer sms = rig.call("GET", "/users/u1/optout-status?channelType=SMS");
    CHECK(sms.body == json{{"optOut", false}, {"channelType", "SMS"}, {"effective", true}});
    CHECK(rig.eventually_outcome("suppressed/opt_out:ALL", "SMS", user("u1")));
    auto e = rig.next_event();
    REQUIRE(e);
    CHECK(e->map["channel.type"] == "ALL");
  }
  SECTION("blacklist-status") {
    CHECK(rig.call("GET", "/users/u1/blacklist-status").body == json{{"blacklisted", false}});
    const ApiAnswer put = rig.call("PUT", "/users/u1/blacklist-status", R"({"blacklisted": true})");
    CHECK(put.status == 200);
    CHECK(put.body["blacklisted"] == true);
    CHECK(rig.call("GET", "/users/u1/blacklist-status").body == json{{"blacklisted", true}});
    auto e = rig.next_event();
    REQUIRE(e);
    CHECK(e->topic == "Blacklisted");
    CHECK_FALSE(e->map.contains("channel.type"));
    // Not even a realtime transactional message reaches a blacklisted person.
    const json rt = {{"campaign", {{"type", "realtime"}, {"transactional", true}}}};
    CHECK(rig.eventually_outcome("suppressed/blacklisted", "MAIL", user("u1"), rt));
    CHECK(rig.call("GET", "/users/u1/optout-status").body["effective"] == true);
    CHECK(rig.call("PUT", "/users/u1/blacklist-status", R"({"blacklisted": false})").status == 200);
    auto w = rig.next_event();
    REQUIRE(w);
    CHECK(w->topic == "Whitelisted");
    CHECK(rig.eventually_outcome("MAIL", "MAIL", user("u1"), rt));
  }
  SECTION("recipient-status lists every set channel, sorted") {
    rig.call("PUT", "/users/u1/optout-status?channelType=SMS", R"({"optOut": true})");
    rig.call("PUT", "/users/u1/optout-status?channelType=MAIL", R"({"optOut": true})");
    rig.call("PUT", "/users/u1/optout-status?channelType=push_notification", R"({"optOut": true})");
    rig.call("PUT", "/users/u1/optout-status?channelType=PUSH_NOTIFICATION",
             R"({"optOut": false})");
    const ApiAnswer r = rig.call("GET", "/users/u1/recipient-status");
    CHECK(r.status == 200);
    CHECK(r.body ==
          json{{"blacklisted", false}, {"optOutAll", false}, {"optOutChannels", {"MAIL", "SMS"}}});
  }
  SECTION("businessUnit selects the business unit's record") {
    rig.call("PUT", "/users/u1/optout-status?channelType=MAIL&businessUnit=de",
             R"({"optOut": true})");
    CHECK(rig.call("GET", "/users/u1/optout-status?channelType=MAIL&businessUnit=de")
              .body["optOut"] == true);
    CHECK(rig.call("GET", "/users/u1/optout-status?channelType=MAIL").body["optOut"] == false);
    CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL",
                                 json{{"id", "u1"}, {"bu", "de"}}));
    CHECK(rig.outcome("MAIL", user("u1")) == "MAIL");
  }
  SECTION("an external id with a percent-encoded slash") {
    CHECK(rig.call("PUT", "/users/team%2F7/optout-status?channelType=SMS", R"({"optOut": true})")
              .status == 200);
    CHECK(rig.redis.hget("gk:u::team/7", "SMS") == "1");
    CHECK(rig.call("GET", "/users/team%2F7/optout-status?channelType=SMS").body["optOut"] == true);
  }
  SECTION("X-XNG-ApiVersion: 1 is accepted") {
    CHECK(rig.call("GET", "/users/u1/optout-status", "", kApiToken, {{"X-XNG-ApiVersion", "1"}})
              .status == 200);
  }
  SECTION("health, readiness and metrics need no token") {
    CHECK(rig.call("GET", "/healthz", "", std::nullopt).status == 200);
    CHECK(rig.call("GET", "/readyz", "", std::nullopt).status == 200);
    rig.call("GET", "/users/u1/optout-status");
    const ApiAnswer m = rig.call("GET", "/metrics", "", std::nullopt);
    CHECK(m.status == 200);
    CHECK(
        m.raw.find(
            R"(gk_http_requests_total{route="/users/{externalId}/optout-status",status="200"} 1)") !=
        std::string::npos);
  }
}

TEST_CASE("e2e management: authentication", "[e2e][mgmt][auth]") {
  ManagementRig rig;
  rig.start();
  for (const auto& token : {std::optional<std::string>(), std::optional<std::string>("wrong"),
                            std::optional<std::string>("")}) {
    INFO("token: " << token.value_or("(none)"));
    for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/users/u1/optout-status"},
             {"PUT", "/users/u1/optout-status"},
             {"GET", "/users/u1/blacklist-status"},
             {"PUT", "/users/u1/blacklist-status"},
             {"GET", "/users/u1/recipient-status"},
             {"GET", "/users/u1/optout-history"},
             {"GET", "/leads/optout-history?email=a@x"},
             {"POST", "/events"}}) {
      INFO(method << " " << path);
      const ApiAnswer a = rig.call(method, path, R"({"optOut": true, "blacklisted": true})", token);
      CHECK(a.status == 401);
      CHECK(a.body["error"].is_string());
    }
  }
  // Nothing was written by the refused calls.
  CHECK(rig.redis.command({"EXISTS", "gk:u::u1"})->integer == 0);
  CHECK(rig.metrics().find(R"(gk_http_requests_total{route="/events",status="401"} 3)") !=
        std::string::npos);
  // The token never appears in the log, neither the right one nor a wrong one.
  rig.call("GET", "/users/u1/optout-status");
  CHECK(rig.gk->log().find(kApiToken) == std::string::npos);
  CHECK(rig.gk->log().find("wrong") == std::string::npos);
}

TEST_CASE("e2e management: tokens from a file, and /metrics behind a token when configured",
          "[e2e][mgmt][auth]") {
  TempDir dir;
  const std::string file = dir.write("tokens", "# operators\nfile-token\n");
  ManagementRig rig;
  rig.opts.http_extra += "\nauth_tokens_file = \"" + file + "\"\nmetrics_require_token = true";
  rig.start();
  CHECK(rig.call("GET", "/users/u1/optout-status", "", "file-token").status == 200);
  CHECK(rig.call("GET", "/users/u1/optout-status", "", kApiToken).status == 200);
  CHECK(rig.call("GET", "/metrics", "", std::nullopt).status == 401);
  CHECK(rig.call("GET", "/metrics", "", "nope").status == 401);
  CHECK(rig.call("GET", "/metrics", "", "file-token").status == 200);
  CHECK(rig.call("GET", "/healthz", "", std::nullopt).status == 200);
  CHECK(rig.call("GET", "/readyz", "", std::nullopt).status == 200);
}

TEST_CASE("e2e management: bad requests get a 4xx naming the problem", "[e2e][mgmt]") {
  ManagementRig rig;
  rig.start();
  auto expect = [&](const ApiAnswer& a, int status, const std::string& error_part) {
    CHECK(a.status == status);
    REQUIRE(a.body.is_object());
    INFO(a.raw);
    CHECK(a.body["error"].get<std::string>().find(error_part) != std::string::npos);
  };
  SECTION("status routes") {
    expect(rig.call("GET", "/users/u1/optout-status?channelType=FAX"), 400,
           "unknown channelType 'FAX'");
    expect(rig.call("PUT", "/users/u1/optout-status?channelType=FAX", R"({"optOut": true})"), 400,
           "unknown channelType 'FAX'");
    expect(rig.call("PUT", "/users/u1/optout-status", "optOut=true"), 400, "not valid JSON");
    expect(rig.call("PUT", "/users/u1/optout-status", "[true]"), 400, "object");
    expect(rig.call("PUT", "/users/u1/optout-status", "{}"), 400, "optOut is missing");
    expect(rig.call("PUT", "/users/u1/optout-status", R"({"optOut": "yes"})"), 400,
           "optOut must be true or false");
    expect(rig.call("PUT", "/users/u1/blacklist-status", R"({"optOut": true})"), 400,
           "blacklisted is missing");
    expect(rig.call("GET", "/users/u1/optout-status", "", kApiToken, {{"X-XNG-ApiVersion", "2"}}),
           400, "X-XNG-ApiVersion");
    expect(rig.call("GET", "/leads/optout-history"), 400, "email");
    expect(rig.call("GET", "/users/u1/nothing-here"), 404, "no such endpoint");
    CHECK(rig.call("PUT", "/users/u1/optout-status", "{}").body["field"] == "optOut");
  }
  SECTION("POST /events: body-level problems") {
    struct Case {
      std::string body;
      std::string field;
      std::string type;
    };
    json fifty_one = {{"id", "u1"}, {"events", json::array()}};
    for (int i = 0; i < 51; ++i) fifty_one["events"].push_back({{"event", "x"}});
    const std::vector<Case> cases = {
        {"{not json", "body", "INVALID_FORMAT"},
        {"[1, 2]", "body", "INVALID_FORMAT"},
        {R"({"id": "u1"})", "events", "MISSING_VALUE"},
        {R"({"id": "u1", "events": {"event": "Opt Out"}})", "events", "INVALID_VALUE"},
        {R"({"id": "u1", "events": []})", "events", "INVALID_VALUE"},
        {fifty_one.dump(), "events", "INVALID_VALUE"},
        {R"({"events": [{"event": "Opt Out"}]})", "id", "MISSING_VALUE"},
        {R"({"id": 5, "events": [{"event": "Opt Out"}]})", "id", "INVALID_VALUE"},
    };
    for (const auto& c : cases) {
      INFO(c.body.substr(0, 80));
      const ApiAnswer a = rig.call("POST", "/events", c.body);
      CHECK(a.status == 400);
      CHECK(a.body["field"] == c.field);
      CHECK(a.body["type"] == c.type);
      CHECK(a.body["error"].is_string());
    }
  }
  SECTION("POST /events: an unknown channel.type rejects that event only") {
    const ApiAnswer a = rig.call("POST", "/events", R"({"id": "u1", "events": [
        {"event": "Opt Out", "channel.type": "FAX"},
        {"event": "Opt Out", "channel.type": "SMS"}]})");
    CHECK(a.status == 202);
    CHECK(a.body["results"][0] == json{{"index", 0},
                                       {"status", "rejected"},
                                       {"field", "channel.type"},
                                       {"type", "UNKNOWN_VALUE"},
                                       {"error", "unknown channel.type 'FAX'"}});
    CHECK(a.body["results"][1]["status"] == "accepted");
    CHECK(rig.call("GET", "/users/u1/optout-status?channelType=SMS").body["optOut"] == true);
    CHECK(rig.metrics().find(R"(gk_events_total{event="Opt Out",result="rejected"} 1)") !=
          std::string::npos);
  }
  SECTION("POST /events: when every event is rejected, 400 with the results") {
    const ApiAnswer a =
        rig.call("POST", "/events",
                 R"({"id": "u1", "events": [{"event": "Opt Out", "channel.type": "FAX"}]})");
    CHECK(a.status == 400);
    CHECK(a.body["field"] == "channel.type");
    CHECK(a.body["type"] == "UNKNOWN_VALUE");
    CHECK(a.body["error"] == "unknown channel.type 'FAX'");
    CHECK(a.body["results"][0]["status"] == "rejected");
    const ApiAnswer nameless =
        rig.call("POST", "/events", R"({"id": "u1", "events": [{}, {"event": 1}]})");
    CHECK(nameless.status == 400);
    CHECK(nameless.body["field"] == "event");
    CHECK(nameless.body["type"] == "MISSING_VALUE");
    CHECK(nameless.body["results"].size() == 2);
    CHECK(rig.redis.command({"EXISTS", "gk:u::u1"})->integer == 0);
    CHECK_FALSE(rig.next_event(300ms));
  }
  SECTION("oversized bodies get 413 with a JSON error") {
    const std::string big = R"({"id": "u1", "events": [{"event": "x", "properties": {"p": ")" +
                            std::string(8000, 'a') + R"("}}]})";
    expect(rig.call("POST", "/events", big), 413, "too large");
    expect(rig.call("PUT", "/users/u1/optout-status", big), 413, "too large");
    CHECK(rig.call("GET", "/healthz", "", std::nullopt).status == 200);
  }
}

TEST_CASE("e2e management: events on the ZeroMQ socket, JSON and msgpack", "[e2e][mgmt]") {
  ManagementRig rig;
  rig.start();
  SECTION("JSON by external id") {
    rig.events->send(Frames{R"({"id": "u-json", "events": [
        {"event": "Opt Out", "channel.type": "sms", "properties": {"status": "via socket"}}]})"});
    auto e = rig.next_event();
    REQUIRE(e);
    CHECK(e->topic == "Opt Out");
    CHECK(e->map["id"] == "u-json");
    CHECK(e->map["channel.type"] == "SMS");
    CHECK(e->map["source"] == "event");
    CHECK(e->map["changed"] == true);
    CHECK(e->map["properties"] == json{{"status", "via socket"}});
    CHECK(rig.call("GET", "/users/u-json/optout-status?channelType=SMS").body["optOut"] == true);
    CHECK(rig.eventually_outcome("suppressed/opt_out:SMS", "SMS", user("u-json")));
  }
  SECTION("msgpack by email and business unit (a lead)") {
    rig.events->send(Frames{pack(
        {{"email", "Lead@Example.com"},
         {"businessUnit", "bu1"},
         {"events",
          {{{"event", "Opt Out"}, {"channel.type", "MAIL"}, {"timestamp", 1795688100123}}}}})});
    auto e = rig.next_event();
    REQUIRE(e);
    CHECK(e->map["email"] == "lead@example.com");  // normalised (docs/API.md, identity)
    CHECK(e->map["businessUnit"] == "bu1");
    CHECK_FALSE(e->map.contains("id"));
    CHECK(e->map["timestamp"] == "2026-11-26T10:15:00.123Z");
    CHECK(rig.redis.hget("gk:l:bu1:lead@example.com", "MAIL") == "1");
    const ApiAnswer h =
        rig.call("GET", "/leads/optout-history?email=lead@EXAMPLE.com&businessUnit=bu1");
    CHECK(h.status == 200);
    REQUIRE(h.body["history"].size() == 1);
    CHECK(h.body["history"][0]["channel"] == "MAIL");
    CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL",
                                 json{{"email", "lead@example.com"}, {"bu", "bu1"}}));
  }
  SECTION("bad frames are counted, dropped, and the consumer keeps going") {
    rig.events->send(Frames{"\xc1 not anything"});
    rig.events->send(Frames{R"({"id": "u1", "events": "nope"})"});
    rig.events->send(Frames{"[1]"});
    rig.events->send(Frames{R"({"id": "u1", "events": [{"event": "x"}]})", "second frame"});
    rig.events->send(Frames{R"({"id": "u-after", "events": [{"event": "Blacklisted"}]})"});
    auto e = rig.next_event();
    REQUIRE(e);
    CHECK(e->topic == "Blacklisted");
    CHECK(e->map["id"] == "u-after");
    CHECK(rig.metrics().find(R"(gk_event_bodies_total{result="invalid",transport="socket"} 4)") !=
          std::string::npos);
    CHECK(rig.gk->process().running());
    CHECK(rig.gk->log().find("events socket: dropped a message") != std::string::npos);
  }
  SECTION("an unknown channel.type on the socket is counted and nothing changes") {
    rig.events->send(Frames{R"({"id": "u1", "events": [{"event": "Opt In", "channel.type": "FAX"},
                                                    {"event": "marker"}]})"});
    auto e = rig.next_event();
    REQUIRE(e);
    CHECK(e->topic == "marker");
    CHECK(rig.metrics().find(R"(gk_events_total{event="Opt In",result="rejected"} 1)") !=
          std::string::npos);
    CHECK(rig.redis.command({"EXISTS", "gk:u::u1"})->integer == 0);
  }
}

TEST_CASE("e2e management: mail.unsubscribe opts out of MAIL and emits two events", "[e2e][mgmt]") {
  ManagementRig rig;
  rig.start();
  const json lead = {{"email", "reader@example.com"}};
  REQUIRE(rig.outcome("MAIL", lead) == "MAIL");
  rig.events->send(Frames{R"({"email": "reader@example.com", "events": [
      {"event": "mail.unsubscribe", "properties": {"listUnsubscribe": true}}]})"});
  auto first = rig.next_event();
  auto second = rig.next_event();
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->topic == "mail.unsubscribe");
  CHECK(first->map["source"] == "esp");
  CHECK(first->map["channel.type"] == "MAIL");
  CHECK(first->map["changed"] == true);
  CHECK(second->topic == "Opt Out");
  CHECK(second->map["source"] == "esp");
  CHECK(second->map["channel.type"] == "MAIL");
  CHECK(second->map["email"] == "reader@example.com");
  CHECK(second->map["properties"] == json{{"listUnsubscribe", true}});
  CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", lead));
  CHECK(rig.outcome("SMS", lead) == "SMS");
  const auto stream = rig.stream();
  REQUIRE(stream.size() == 2);
  CHECK(stream[0].at("event") == "mail.unsubscribe");
  CHECK(stream[1].at("event") == "Opt Out");
  CHECK(stream[1].at("source") == "esp");
}

TEST_CASE("e2e management: Opt Out without channel.type changes nothing", "[e2e][mgmt]") {
  ManagementRig rig;
  rig.start();
  const ApiAnswer a = rig.call("POST", "/events", R"({"id": "u1", "events": [
      {"event": "Opt Out", "properties": {"status": "no channel"}},
      {"event": "Opt In"},
      {"event": "Page Viewed", "channel.type": "MAIL"}]})");
  REQUIRE(a.status == 202);
  for (int i = 0; i < 3; ++i) {
    CHECK(a.body["results"][i] == json{{"index", i}, {"status", "accepted"}, {"changed", false}});
  }
  std::vector<std::string> topics;
  for (int i = 0; i < 3; ++i) {
    auto e = rig.next_event();
    REQUIRE(e);
    topics.push_back(e->topic);
    CHECK(e->map["changed"] == false);
    if (i < 2) CHECK_FALSE(e->map.contains("channel.type"));
  }
  CHECK(topics == std::vector<std::string>{"Opt Out", "Opt In", "Page Viewed"});
  CHECK(rig.redis.command({"EXISTS", "gk:u::u1"})->integer == 0);
  CHECK(rig.redis.command({"EXISTS", "gk:h:u::u1"})->integer == 0);
  CHECK(rig.outcome("MAIL", user("u1")) == "MAIL");
}

TEST_CASE("e2e management: out-of-order events, last writer wins by event time", "[e2e][mgmt]") {
  ManagementRig rig;
  rig.start();
  const ApiAnswer a = rig.call("POST", "/events", R"({"id": "u1", "events": [
      {"event": "Opt Out", "channel.type": "MAIL", "timestamp": "2026-11-26T10:15:00.000Z"},
      {"event": "Opt In", "channel.type": "MAIL", "timestamp": "2026-11-26T10:14:00.000Z"}]})");
  REQUIRE(a.status == 202);
  CHECK(a.body["results"][0]["changed"] == true);
  CHECK(a.body["results"][1]["changed"] == false);
  CHECK(rig.call("GET", "/users/u1/optout-status?channelType=MAIL").body["optOut"] == true);
  const ApiAnswer h = rig.call("GET", "/users/u1/optout-history");
  REQUIRE(h.body["history"].size() == 2);
  CHECK(h.body["history"][0]["event"] == "Opt In");
  CHECK(h.body["history"][0]["applied"] == false);
  CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", user("u1")));
}

TEST_CASE("e2e management: an opt-in by id clears the opt-out of a linked lead",
          "[e2e][mgmt][identity]") {
  ManagementRig rig;
  rig.start();
  const json by_email = {{"email", "pat@example.com"}};
  const json by_both = {{"id", "pat"}, {"email", "pat@example.com"}};
  // The lead opts out before anyone knows their external id.
  REQUIRE(rig.call("POST", "/events",
                   R"({"email": "Pat@Example.com", "events": [
                       {"event": "Opt Out", "channel.type": "MAIL"}]})")
              .status == 202);
  CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", by_email));
  // An event naming both links them and merges the lead into the user.
  REQUIRE(rig.call("POST", "/events",
                   R"({"id": "pat", "email": "pat@example.com", "events": [{"event": "Login"}]})")
              .status == 202);
  CHECK(rig.redis.command({"EXISTS", "gk:l::pat@example.com"})->integer == 0);
  CHECK(rig.call("GET", "/users/pat/optout-status?channelType=MAIL").body["optOut"] == true);
  CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", user("pat")));
  // The user opts back in through the API: no record may keep the old opt-out.
  REQUIRE(
      rig.call("PUT", "/users/pat/optout-status?channelType=MAIL", R"({"optOut": false})").status ==
      200);
  CHECK(rig.eventually_outcome("MAIL", "MAIL", by_email));
  CHECK(rig.outcome("MAIL", by_both) == "MAIL");
  CHECK(rig.outcome("MAIL", user("pat")) == "MAIL");
  // Later changes by email alone reach the user.
  REQUIRE(rig.call("POST", "/events",
                   R"({"email": "pat@example.com", "events": [
                       {"event": "Opt Out", "channel.type": "SMS"}]})")
              .status == 202);
  CHECK(rig.call("GET", "/users/pat/optout-status?channelType=SMS").body["optOut"] == true);
}

TEST_CASE("e2e management: the store down gets 503, and recovers", "[e2e][mgmt]") {
  ManagementRig rig;
  rig.start();
  rig.redis.stop();
  const ApiAnswer put = rig.call("PUT", "/users/u1/optout-status", R"({"optOut": true})");
  CHECK(put.status == 503);
  CHECK(put.body == json{{"error", "status store unavailable"}});
  CHECK(rig.call("GET", "/users/u1/optout-status").status == 503);
  const ApiAnswer post =
      rig.call("POST", "/events",
               R"({"id": "u1", "events": [{"event": "Opt Out", "channel.type": "SMS"}]})");
  CHECK(post.status == 503);
  CHECK(post.body["error"] == "status store unavailable");
  rig.redis.start();
  CHECK(eventually([&] {
    return rig.call("PUT", "/users/u1/optout-status", R"({"optOut": true})").status == 200;
  }));
}

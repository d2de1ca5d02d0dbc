// Topics (PROTOCOL.md 9) through the built binary: the rules, the events, the API routes.
#include <catch2/catch.hpp>

#include <httplib.h>

#include "tests/support/rig.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* kTopics = R"(
[topics.news]
default = "subscribed"

[topics.Promo]
default = "unsubscribed"

[topics.legal]
default = "required"

[topics.sms-only]
channels = ["SMS"]
)";

struct Answer {
  int status = -1;
  json body;
};

Answer call(int port, const std::string& method, const std::string& path,
            const std::string& body = "") {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5, 0);
  const httplib::Headers headers = {{"X-XNG-AuthToken", "test-token"}};
  httplib::Result r = method == "GET"   ? client.Get(path, headers)
                      : method == "PUT" ? client.Put(path, headers, body, "application/json")
                                        : client.Post(path, headers, body, "application/json");
  if (!r) return {};
  return {r->status, json::parse(r->body, nullptr, false)};
}

std::string hget(RedisServer& redis, const std::string& key, const std::string& field) {
  auto reply = redis.command({"HGET", key, field});
  return reply && reply->type == REDIS_REPLY_STRING ? std::string(reply->str, reply->len) : "";
}

}  // namespace

TEST_CASE("e2e topics: every default x stored value x realtime-transactional exemption",
          "[e2e][topics]") {
  Rig rig;
  rig.opts.extra_toml = kTopics;
  struct Topic {
    std::string name;
    std::string def;
  };
  const std::vector<Topic> topics = {
      {"news", "subscribed"}, {"Promo", "unsubscribed"}, {"legal", "required"}};
  // One person per stored value: absent, "0" (joined), "1" (left).
  for (const auto& t : topics) {
    rig.redis.hset("gk:u::joined", "topic:" + t.name, "0");
    rig.redis.hset("gk:u::left", "topic:" + t.name, "1");
  }
  rig.start();

  const json rt = {{"type", "realtime"}, {"transactional", true}};
  std::map<std::string, std::string> expect;
  for (const auto& t : topics) {
    for (const std::string stored : {"absent", "joined", "left"}) {
      for (const bool exempt : {false, true}) {
        const std::string id = t.name + "/" + stored + (exempt ? "/rt" : "");
        json campaign = exempt ? rt : json::object();
        // Names match case-insensitively; reasons carry the configured spelling.
        campaign["topic"] = t.name == "Promo" ? "PROMO" : t.name;
        rig.sender->send(
            header(id, "MAIL", {{"id", stored}}, {{"to", "a@example.com"}, {"campaign", campaign}}),
            "p");
        std::string want = "MAIL";
        if (!exempt && t.def != "required") {
          if (stored == "left") want = "suppressed/opt_out:topic:" + t.name;
          if (stored == "absent" && t.def == "unsubscribed") {
            want = "suppressed/not_subscribed:topic:" + t.name;
          }
        }
        expect[id] = want;
      }
    }
  }
  const auto got = rig.collect(expect.size());
  for (const auto& [id, want] : expect) {
    INFO(id);
    CHECK(got.at(id) == want);
  }
}

TEST_CASE("e2e topics: unknown topics are rejected and the checks keep their order",
          "[e2e][topics]") {
  Rig rig;
  rig.opts.extra_toml = kTopics;
  rig.redis.hset("gk:u::all-out", "ALL", "1");
  rig.redis.hset("gk:u::all-out", "topic:news", "1");
  rig.redis.hset("gk:u::mail-out", "MAIL", "1");
  rig.redis.hset("gk:u::mail-out", "topic:news", "1");
  rig.redis.hset("gk:u::black", "BLACKLIST", "1");
  rig.redis.hset("gk:u::black", "topic:news", "1");
  rig.redis.hset("gk:l::lead@example.com", "topic:news", "1");
  rig.start();
  const json rt = {{"type", "realtime"}, {"transactional", true}};
  auto with_topic = [](const json& topic, json campaign = json::object()) {
    campaign["topic"] = topic;
    return json{{"to", "a@example.com"}, {"campaign", campaign}};
  };
  const std::map<std::string, std::pair<json, std::string>> cases = {
      {"empty", {header("empty", "MAIL", {{"id", "u"}}, with_topic("")), "rejected/unknown_topic"}},
      {"unknown",
       {header("unknown", "MAIL", {{"id", "u"}}, with_topic("nope")), "rejected/unknown_topic"}},
      {"not-a-string",
       {header("not-a-string", "MAIL", {{"id", "u"}}, with_topic(5)), "rejected/unknown_topic"}},
      {"wrong-channel",
       {header("wrong-channel", "MAIL", {{"id", "u"}}, with_topic("sms-only")),
        "rejected/unknown_topic"}},
      {"unknown-rt",
       {header("unknown-rt", "MAIL", {{"id", "u"}}, with_topic("nope", rt)),
        "rejected/unknown_topic"}},
      {"right-channel",
       {header("right-channel", "SMS", {{"id", "u"}}, with_topic("sms-only")), "SMS"}},
      {"nil-topic", {header("nil-topic", "MAIL", {{"id", "u"}}, with_topic(nullptr)), "MAIL"}},
      {"all-first",
       {header("all-first", "MAIL", {{"id", "all-out"}}, with_topic("news")),
        "suppressed/opt_out:ALL"}},
      {"channel-first",
       {header("channel-first", "MAIL", {{"id", "mail-out"}}, with_topic("news")),
        "suppressed/opt_out:MAIL"}},
      {"blacklist-first",
       {header("blacklist-first", "MAIL", {{"id", "black"}}, with_topic("news", rt)),
        "suppressed/blacklisted"}},
      {"lead",
       {header("lead", "MAIL", {{"id", "u"}, {"email", "Lead@example.com"}}, with_topic("news")),
        "suppressed/opt_out:topic:news"}},
  };
  for (const auto& [id, c] : cases) rig.sender->send(c.first, "p");
  const auto got = rig.collect(cases.size());
  for (const auto& [id, c] : cases) {
    INFO(id);
    CHECK(got.at(id) == c.second);
  }
}

TEST_CASE("e2e topics: the API reads and sets topics and lists preferences", "[e2e][topics]") {
  Rig rig;
  rig.opts.extra_toml = kTopics;
  rig.start();
  const int port = rig.opts.http_port;

  auto a = call(port, "GET", "/users/u1/topics/news");
  REQUIRE(a.status == 200);
  CHECK(a.body == json{{"topic", "news"},
                       {"subscribed", true},
                       {"explicit", false},
                       {"default", "subscribed"}});
  a = call(port, "GET", "/users/u1/topics/promo");
  REQUIRE(a.status == 200);
  CHECK(a.body["topic"] == "Promo");
  CHECK(a.body["subscribed"] == false);
  CHECK(a.body["default"] == "unsubscribed");

  a = call(port, "PUT", "/users/u1/topics/news", R"({"subscribed": false})");
  REQUIRE(a.status == 200);
  CHECK(a.body["subscribed"] == false);
  CHECK(a.body["explicit"] == true);
  CHECK(hget(rig.redis, "gk:u::u1", "topic:news") == "1");
  CHECK(!hget(rig.redis, "gk:u::u1", "topic:news:ts").empty());
  a = call(port, "PUT", "/users/u1/topics/Promo", R"({"subscribed": true})");
  REQUIRE(a.status == 200);
  CHECK(a.body["subscribed"] == true);
  CHECK(hget(rig.redis, "gk:u::u1", "topic:Promo") == "0");

  CHECK(call(port, "GET", "/users/u1/topics/nope").status == 404);
  CHECK(call(port, "PUT", "/users/u1/topics/nope", R"({"subscribed": true})").status == 404);
  CHECK(call(port, "PUT", "/users/u1/topics/legal", R"({"subscribed": false})").status == 409);
  CHECK(call(port, "PUT", "/users/u1/topics/legal", R"({"subscribed": true})").status == 200);
  CHECK(call(port, "PUT", "/users/u1/topics/news", R"({"subscribed": "no"})").status == 400);
  CHECK(call(port, "PUT", "/users/u1/topics/news", "not json").status == 400);
  CHECK(call(port, "PUT", "/users/u1/topics/news", "{}").status == 400);

  a = call(port, "GET", "/users/u1/preferences");
  REQUIRE(a.status == 200);
  CHECK(a.body["blacklisted"] == false);
  CHECK(a.body["channels"]["MAIL"] == json{{"optOut", false}, {"effective", false}});
  CHECK(a.body["channels"].contains("SMS"));
  CHECK(a.body["topics"]["news"] ==
        json{{"subscribed", false}, {"explicit", true}, {"default", "subscribed"}});
  CHECK(a.body["topics"]["Promo"]["subscribed"] == true);
  CHECK(a.body["topics"]["legal"]["default"] == "required");
  CHECK(a.body["topics"]["sms-only"]["explicit"] == false);

  // The history records the change with its field and source.
  a = call(port, "GET", "/users/u1/optout-history");
  REQUIRE(a.status == 200);
  bool found = false;
  for (const auto& e : a.body["history"]) {
    if (e["field"] == "topic:news" && e["new"] == true && e["source"] == "api") found = true;
  }
  CHECK(found);

  // The next message of the topic is suppressed.
  rig.sender->send(
      header("after", "MAIL", {{"id", "u1"}}, {{"to", "a@x"}, {"campaign", {{"topic", "news"}}}}),
      "p");
  CHECK(rig.collect(1).at("after") == "suppressed/opt_out:topic:news");
}

TEST_CASE("e2e topics: Opt Out / Opt In events with a topic, merged like channels",
          "[e2e][topics]") {
  Rig rig;
  rig.opts.extra_toml = kTopics;
  rig.start();
  const int port = rig.opts.http_port;

  // A lead leaves a topic by email; linking merges it into the user.
  auto a = call(port, "POST", "/events",
                R"({"email": "Lee@example.com", "events": [
                    {"event": "Opt Out", "topic": "NEWS", "timestamp": 1000}]})");
  REQUIRE(a.status == 202);
  CHECK(hget(rig.redis, "gk:l::lee@example.com", "topic:news") == "1");
  a = call(port, "POST", "/events",
           R"({"id": "lee", "email": "lee@example.com", "events": [{"event": "Something"}]})");
  REQUIRE(a.status == 202);
  CHECK(hget(rig.redis, "gk:u::lee", "topic:news") == "1");
  CHECK(hget(rig.redis, "gk:u::lee", "topic:news:ts") == "1000");

  // An older change is recorded, not applied; a newer one wins.
  a = call(port, "POST", "/events",
           R"({"id": "lee", "events": [{"event": "Opt In", "topic": "news", "timestamp": 500}]})");
  REQUIRE(a.status == 202);
  CHECK(hget(rig.redis, "gk:u::lee", "topic:news") == "1");
  a = call(port, "POST", "/events",
           R"({"id": "lee", "events": [{"event": "Opt In", "topic": "news", "timestamp": 2000}]})");
  REQUIRE(a.status == 202);
  CHECK(hget(rig.redis, "gk:u::lee", "topic:news") == "0");

  // Both scopes, an unknown topic, leaving a required topic: rejected, nothing written.
  for (const char* bad :
       {R"({"id": "x", "events": [{"event": "Opt Out", "topic": "news", "channel.type": "MAIL"}]})",
        R"({"id": "x", "events": [{"event": "Opt Out", "topic": "nope"}]})",
        R"({"id": "x", "events": [{"event": "Opt Out", "topic": "legal"}]})"}) {
    INFO(bad);
    a = call(port, "POST", "/events", bad);
    CHECK(a.status == 400);
    CHECK(a.body["results"][0]["status"] == "rejected");
  }
  auto exists = rig.redis.command({"EXISTS", "gk:u::x"});
  CHECK(exists->integer == 0);

  // System events (here: as the stream keeps them) carry the topic and no channel.
  auto stream = rig.redis.command({"XRANGE", "gk:events", "-", "+"});
  REQUIRE(stream->type == REDIS_REPLY_ARRAY);
  bool seen = false;
  for (std::size_t i = 0; i < stream->elements; ++i) {
    const redisReply* fields = stream->element[i]->element[1];
    std::map<std::string, std::string> f;
    for (std::size_t j = 0; j + 1 < fields->elements; j += 2) {
      f[fields->element[j]->str] = fields->element[j + 1]->str;
    }
    if (f["event"] == "Opt Out" && f["topic"] == "news") {
      CHECK(f.count("channel.type") == 0);
      seen = true;
    }
  }
  CHECK(seen);
}

TEST_CASE("e2e topics: topic routes and link issuing apply the identity rules",
          "[e2e][topics][identity]") {
  Rig rig;
  rig.opts.extra_toml = std::string(kTopics) + R"(
[unsubscribe]
base_url = "https://mail.example.com/gk"
secrets = ["an identity test secret of thirty-two characters or more"]
)";
  rig.start();
  const int port = rig.opts.http_port;

  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/users/u1/topics/news?businessUnit=T:b"},
           {"PUT", "/users/u1/topics/news?businessUnit=T:b"},
           {"GET", "/users/u1/preferences?businessUnit=T:b"}}) {
    INFO(method << " " << path);
    const auto a = call(port, method, path, R"({"subscribed": false})");
    CHECK(a.status == 400);
    CHECK(a.body.value("field", "") == "businessUnit");
  }
  CHECK(hget(rig.redis, "gk:u:T:b:u1", "topic:news").empty());

  const json items = {{{"user", {{"id", "u1"}, {"bu", "T:b"}}}, {"topic", "news"}},
                      {{"user", {{"email", "  Pat@Example.com\n"}}}, {"topic", "news"}}};
  const auto links = call(port, "POST", "/unsubscribe-links", json{{"links", items}}.dump());
  REQUIRE(links.status == 200);
  const json& out = links.body["links"];
  CHECK_FALSE(out[0].contains("url"));
  CHECK(out[0].value("error", "").find("user.bu") != std::string::npos);
  REQUIRE(out[1].contains("url"));

  // The link names the normalised email: its one-click lands on pat@example.com's record.
  const std::string url = out[1]["url"];
  const std::string prefix = "https://mail.example.com/gk";
  REQUIRE(url.rfind(prefix, 0) == 0);
  httplib::Client client("127.0.0.1", port);
  const auto r = client.Post(url.substr(prefix.size()), "List-Unsubscribe=One-Click",
                             "application/x-www-form-urlencoded");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(hget(rig.redis, "gk:l::pat@example.com", "topic:news") == "1");
}

// One-click unsubscribe links (PROTOCOL.md 10) through the built binary.
#include <catch2/catch.hpp>

#include <httplib.h>

#include "common/protocol/unsubscribe_token.h"
#include "common/util/timestamp.h"
#include "tests/support/rig.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kOld = "an old secret that is at least thirty-two characters";
const std::string kNew = "the new secret, also at least thirty-two characters";

std::string links_toml(const std::string& secrets = "\"" + kNew + "\", \"" + kOld + "\"") {
  return R"(
[topics.news]
[topics.legal]
default = "required"

[unsubscribe]
base_url = "https://mail.example.com/gk"
link_ttl_days = 60
secrets = [)" +
         secrets + "]\n";
}

struct Answer {
  int status = -1;
  std::string body;
  std::string content_type;
};

Answer http(int port, const std::string& method, const std::string& path,
            const std::string& body = "", const std::string& type = "",
            const httplib::Headers& headers = {}) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5, 0);
  auto send = [&]() -> httplib::Result {
    if (method == "GET") return client.Get(path, headers);
    if (method == "HEAD") return client.Head(path, headers);
    if (type.empty()) return client.Post(path, headers);
    return client.Post(path, headers, body, type);
  };
  const httplib::Result r = send();
  if (!r) return {};
  return {r->status, r->body, r->get_header_value("Content-Type")};
}

json issue(int port, const json& items) {
  const auto a = http(port, "POST", "/unsubscribe-links", json{{"links", items}}.dump(),
                      "application/json", {{"X-XNG-AuthToken", "test-token"}});
  REQUIRE(a.status == 200);
  return json::parse(a.body)["links"];
}

std::string path_of(const std::string& url) {
  const std::string prefix = "https://mail.example.com/gk";
  REQUIRE(url.rfind(prefix, 0) == 0);
  return url.substr(prefix.size());
}

long long count(RedisServer& redis, const std::vector<std::string>& args) {
  auto r = redis.command(args);
  return r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
}

std::string hget(RedisServer& redis, const std::string& key, const std::string& field) {
  auto reply = redis.command({"HGET", key, field});
  return reply && reply->type == REDIS_REPLY_STRING ? std::string(reply->str, reply->len) : "";
}

constexpr const char* kForm = "application/x-www-form-urlencoded";

}  // namespace

TEST_CASE("e2e links: issued in bulk with per-item errors and limits", "[e2e][links]") {
  Rig rig;
  rig.opts.extra_toml = links_toml();
  rig.start();
  const int port = rig.opts.http_port;
  const json links =
      issue(port, json::array({
                      {{"user", {{"id", "customer-7731"}}}, {"channel", "email"}},
                      {{"user", {{"email", "a@example.com"}}}, {"topic", "NEWS"}},
                      {{"user", {{"id", "customer-7731"}, {"bu", "b"}}}, {"all", true}},
                      {{"user", {{"id", "u1"}}}, {"topic", "nope"}},
                      {{"user", {{"id", "u1"}}}, {"topic", "news"}, {"all", true}},
                      {{"user", {{"id", "u1"}}}},
                      {{"user", json::object()}, {"all", true}},
                      {{"user", {{"id", "u1"}}}, {"channel", "FAX"}},
                      {{"user", {{"id", "u1"}}}, {"topic", "legal"}},
                      "not an object",
                  }));
  REQUIRE(links.size() == 10);
  for (int i = 0; i < 3; ++i) {
    INFO(i);
    const std::string url = links[i]["url"];
    CHECK(url.rfind("https://mail.example.com/gk/u/", 0) == 0);
    CHECK(url.size() - std::string("https://mail.example.com/gk/u/").size() <= 400);
    CHECK(links[i]["List-Unsubscribe"] == "<" + url + ">");
    CHECK(links[i]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click");
    // The identity travels sealed: neither the id nor the email shows in the token. (They are
    // long enough that random base64url text does not contain them by chance; "u1" did, in
    // about one run in fifteen.)
    const std::string token = url.substr(std::string("https://mail.example.com/gk/u/").size());
    CHECK(token.find("customer-7731") == std::string::npos);
    CHECK(token.find("a@example.com") == std::string::npos);
  }
  for (int i = 3; i < 10; ++i) {
    INFO(i);
    CHECK(links[i].contains("error"));
    CHECK_FALSE(links[i].contains("url"));
  }
  json many = json::array();
  for (int i = 0; i < 1001; ++i) many.push_back({{"user", {{"id", "x"}}}, {"all", true}});
  auto a = http(port, "POST", "/unsubscribe-links", json{{"links", many}}.dump(),
                "application/json", {{"X-XNG-AuthToken", "test-token"}});
  CHECK(a.status == 413);
  many.erase(many.begin());
  a = http(port, "POST", "/unsubscribe-links", json{{"links", many}}.dump(), "application/json",
           {{"X-XNG-AuthToken", "test-token"}});
  CHECK(a.status == 200);
  a = http(port, "POST", "/unsubscribe-links", json{{"links", json::array()}}.dump(),
           "application/json");
  CHECK(a.status == 401);
}

TEST_CASE("e2e links: GET changes nothing, the one-click POST unsubscribes once", "[e2e][links]") {
  Rig rig;
  rig.opts.extra_toml = links_toml();
  rig.start();
  const int port = rig.opts.http_port;
  const json links = issue(
      port,
      json::array({{{"user", {{"id", "u1"}, {"email", "alice@example.com"}}}, {"channel", "MAIL"}},
                   {{"user", {{"id", "u1"}}}, {"topic", "news"}}}));
  const std::string mail_link = path_of(links[0]["url"]);
  const std::string topic_link = path_of(links[1]["url"]);

  // A scanner's GET and HEAD: a page, and nothing written.
  auto a = http(port, "GET", mail_link);
  REQUIRE(a.status == 200);
  CHECK(a.content_type.rfind("text/html", 0) == 0);
  CHECK(a.body.find("a***@example.com") != std::string::npos);
  CHECK(a.body.find("alice") == std::string::npos);
  CHECK(a.body.find("name=\"viewport\"") != std::string::npos);
  CHECK(a.body.find("name=\"List-Unsubscribe\" value=\"One-Click\"") != std::string::npos);
  CHECK(a.body.find("action=\"" + mail_link + "\"") != std::string::npos);
  CHECK(a.body.find("action=\"" + mail_link + "/preferences\"") != std::string::npos);
  CHECK(a.body.find("<script") == std::string::npos);
  CHECK(http(port, "HEAD", mail_link).status == 200);
  CHECK(count(rig.redis, {"EXISTS", "gk:u::u1"}) == 0);
  CHECK(count(rig.redis, {"LLEN", "gk:h:u::u1"}) == 0);

  // Without the one-click body: 400, nothing changes.
  CHECK(http(port, "POST", mail_link).status == 400);
  CHECK(http(port, "POST", mail_link, "foo=bar", kForm).status == 400);
  CHECK(http(port, "POST", mail_link + "?List-Unsubscribe=One-Click", "", kForm).status == 400);
  CHECK(count(rig.redis, {"EXISTS", "gk:u::u1"}) == 0);

  // The one-click POST: written before the answer, with its history and system event.
  a = http(port, "POST", mail_link, "List-Unsubscribe=One-Click", kForm);
  CHECK(a.status == 200);
  CHECK(hget(rig.redis, "gk:u::u1", "MAIL") == "1");
  CHECK(count(rig.redis, {"LLEN", "gk:h:u::u1"}) == 1);
  auto history =
      http(port, "GET", "/users/u1/optout-history", "", "", {{"X-XNG-AuthToken", "test-token"}});
  REQUIRE(history.status == 200);
  const json h = json::parse(history.body)["history"];
  REQUIRE(h.size() == 1);
  CHECK(h[0]["source"] == "one_click");
  CHECK(h[0]["field"] == "MAIL");
  CHECK(h[0]["new"] == true);
  CHECK(h[0]["old"] == false);
  auto stream = rig.redis.command({"XRANGE", "gk:events", "-", "+"});
  REQUIRE(stream->elements >= 1);
  bool one_click_event = false;
  for (std::size_t i = 0; i < stream->elements; ++i) {
    const redisReply* f = stream->element[i]->element[1];
    for (std::size_t j = 0; j + 1 < f->elements; j += 2) {
      if (std::string(f->element[j]->str) == "source" &&
          std::string(f->element[j + 1]->str) == "one_click") {
        one_click_event = true;
      }
    }
  }
  CHECK(one_click_event);

  // Replayed: 200 and nothing more.
  CHECK(http(port, "POST", mail_link, "List-Unsubscribe=One-Click", kForm).status == 200);
  CHECK(count(rig.redis, {"LLEN", "gk:h:u::u1"}) == 1);

  // Multipart works the same; a topic link leaves the topic.
  httplib::Client client("127.0.0.1", port);
  const httplib::MultipartFormDataItems parts = {{"List-Unsubscribe", "One-Click", "", ""}};
  auto r = client.Post(topic_link.c_str(), parts);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(hget(rig.redis, "gk:u::u1", "topic:news") == "1");

  // The next messages are suppressed.
  rig.sender->send(header("next", "MAIL", {{"id", "u1"}}, {{"to", "a@x"}}), "p");
  rig.sender->send(
      header("next-sms", "SMS", {{"id", "u1"}}, {{"to", "+1"}, {"campaign", {{"topic", "news"}}}}),
      "p");
  const auto got = rig.collect(2);
  CHECK(got.at("next") == "suppressed/opt_out:MAIL");
  CHECK(got.at("next-sms") == "suppressed/opt_out:topic:news");
}

TEST_CASE("e2e links: tampered, unknown, expired and oversized requests change nothing",
          "[e2e][links]") {
  Rig rig;
  rig.opts.extra_toml = links_toml();
  rig.start();
  const int port = rig.opts.http_port;
  const std::string link =
      path_of(issue(port, json::array({{{"user", {{"id", "u2"}}}, {"all", true}}}))[0]["url"]);
  const std::string token = link.substr(3);

  for (std::size_t i = 0; i < token.size(); ++i) {
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    INFO("position " << i);
    const auto get = http(port, "GET", "/u/" + t);
    CHECK((get.status == 400 || get.status == 404));
    const auto post = http(port, "POST", "/u/" + t, "List-Unsubscribe=One-Click", kForm);
    CHECK((post.status == 400 || post.status == 404));
    CHECK(post.content_type.rfind("text/html", 0) == 0);
  }
  CHECK(count(rig.redis, {"EXISTS", "gk:u::u2"}) == 0);

  // Input is never echoed unescaped.
  auto a = http(port, "GET", "/u/%3Cscript%3Ealert(1)%3C%2Fscript%3E");
  CHECK((a.status == 400 || a.status == 404));
  CHECK(a.body.find("<script") == std::string::npos);
  a = http(port, "GET", "/u/%3Cscript%3Ealert(1)");
  CHECK(a.status == 400);
  CHECK(a.body.find("<script") == std::string::npos);

  // Rotation: the first secret signs, every secret verifies; an unknown secret does not.
  gk::LinkPayload p;
  p.scope = gk::LinkScope::kAll;
  p.external_id = "u3";
  p.issued = gk::now_ms();
  CHECK(http(port, "GET", "/u/" + gk::TokenCodec({kOld}).seal(p)).status == 200);
  CHECK(http(port, "GET", "/u/" + gk::TokenCodec({"some other secret of thirty-two chars"}).seal(p))
            .status == 404);
  gk::LinkPayload opened;
  CHECK(gk::TokenCodec({kNew}).open(token, opened) == gk::TokenStatus::kOk);
  CHECK(gk::TokenCodec({kOld}).open(token, opened) == gk::TokenStatus::kInvalid);

  // Expiry (link_ttl_days = 60): a link issued 61 days ago is gone, 59 days ago still works.
  p.issued = gk::now_ms() - 61LL * 86'400'000;
  const std::string expired = "/u/" + gk::TokenCodec({kNew}).seal(p);
  CHECK(http(port, "GET", expired).status == 410);
  CHECK(http(port, "POST", expired, "List-Unsubscribe=One-Click", kForm).status == 410);
  p.issued = gk::now_ms() - 59LL * 86'400'000;
  CHECK(http(port, "GET", "/u/" + gk::TokenCodec({kNew}).seal(p)).status == 200);
  CHECK(count(rig.redis, {"EXISTS", "gk:u::u3"}) == 0);

  // A body over 64 KiB: 413, nothing changes.
  const std::string big = "List-Unsubscribe=One-Click&pad=" + std::string(70 * 1024, 'x');
  CHECK(http(port, "POST", link, big, kForm).status == 413);
  CHECK(count(rig.redis, {"EXISTS", "gk:u::u2"}) == 0);
}

TEST_CASE("e2e links: the preference form changes channels and topics", "[e2e][links]") {
  Rig rig;
  rig.opts.extra_toml = links_toml();
  rig.start();
  const int port = rig.opts.http_port;
  const std::string link = path_of(issue(
      port,
      json::array({{{"user", {{"email", "Bob@Example.com"}}}, {"topic", "news"}}}))[0]["url"]);
  // Keep MAIL and SMS, leave the news topic.
  auto a = http(
      port, "POST", link + "/preferences",
      "form=preferences&all=on&channel%3AMAIL=on&channel%3ASMS=on&channel%3APUSH_NOTIFICATION=on",
      kForm);
  REQUIRE(a.status == 200);
  CHECK(a.body.find("Your preferences were saved.") != std::string::npos);
  CHECK(hget(rig.redis, "gk:l::bob@example.com", "topic:news") == "1");
  CHECK(hget(rig.redis, "gk:l::bob@example.com", "MAIL").empty());
  // Saving again changes nothing; without the form marker nothing happens.
  a = http(
      port, "POST", link + "/preferences",
      "form=preferences&all=on&channel%3AMAIL=on&channel%3ASMS=on&channel%3APUSH_NOTIFICATION=on",
      kForm);
  CHECK(a.body.find("Nothing to change.") != std::string::npos);
  CHECK(http(port, "POST", link + "/preferences", "all=on", kForm).status == 400);
  // Rejoin the topic and leave SMS.
  a = http(
      port, "POST", link + "/preferences",
      "form=preferences&all=on&channel%3AMAIL=on&channel%3APUSH_NOTIFICATION=on&topic%3Anews=on",
      kForm);
  REQUIRE(a.status == 200);
  CHECK(hget(rig.redis, "gk:l::bob@example.com", "topic:news") == "0");
  CHECK(hget(rig.redis, "gk:l::bob@example.com", "SMS") == "1");
}

// After an erasure (PROTOCOL.md 13) nothing but an explicit Opt In brings a person back into
// Redis: a `gatekeeper-ctl import` of an old export reports their rows as bad (by line) and
// stores none of them; an Opt Out by the API answers 404, by an event is accepted and
// changes nothing, and their unsubscribe link pages answer 404. Each time a scan of the
// whole store finds no trace of them.
#include <catch2/catch.hpp>

#include <fstream>

#include "tests/e2e/address_support.h"
#include "tests/e2e/ctl_run.h"
#include "tests/support/process.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kLinkSecret = "a link secret that is at least thirty-two characters";

std::string erasure_toml() {
  return "[topics.news]\n\n[unsubscribe]\nbase_url = \"https://mail.example.com/gk\"\n"
         "secrets = [\"" +
         kLinkSecret + "\"]\n";
}

// A person with a status, a linked e-mail and a phone STOP, then erased: their id, e-mail
// and phone are tombstones only.
void seed_and_erase(AddrRig& rig, RedisServer& redis, const std::string& id,
                    const std::string& email, const std::string& phone) {
  rig.seed_person(id, email);
  REQUIRE(
      rig.event({{"events", json::array({{{"event", "sms.inbound"},
                                          {"properties", {{"from", phone}, {"body", "STOP"}}}}})}})
          .status == 202);
  REQUIRE(mentions(everything(redis), id));
  std::string digits;
  for (char c : phone) {
    if (c != ' ') digits += c == '+' ? "%2B" : std::string(1, c);
  }
  REQUIRE(rig.call("DELETE", "/users/" + id + "?phone=" + digits).status == 200);
  REQUIRE_FALSE(mentions(everything(redis), id));
}

}  // namespace

TEST_CASE("e2e erasure: an import skips erased users, emails and addresses by line",
          "[e2e][erasure][bulk]") {
  RedisServer redis;
  AddrRig rig(addr_options(redis.port()));
  rig.start();
  seed_and_erase(rig, redis, "gone-user", "Gone.Mail@Example.org", "+1 555 000 9876");
  // A lead of its own, erased by e-mail.
  REQUIRE(rig.event({{"email", "gone.lead@example.net"},
                     {"events", json::array({{{"event", "Opt Out"}, {"channel.type", "SMS"}}})}})
              .status == 202);
  REQUIRE(rig.call("DELETE", "/leads?email=gone.lead%40example.net").status == 200);

  TempDir dir;
  const std::string file = dir.file("old-export.csv");
  std::ofstream(file) << "kind,businessUnit,key,field,value,timestamp,reason\n"     // 1
                      << "user,,gone-user,MAIL,1,1700000000000,\n"                  // 2
                      << "user,,kept-user,MAIL,1,1700000000000,\n"                  // 3
                      << "lead,,Gone.Lead@Example.net,SMS,1,1700000000000,\n"       // 4
                      << "lead,,kept.lead@example.net,SMS,1,1700000000000,\n"       // 5
                      << "address,,+1 555 000 9876,SMS,1,1700000000000,sms_stop\n"  // 6
                      << "address,,+15550001111,SMS,1,1700000000000,sms_stop\n"     // 7
                      << "address,,gone.mail@example.org,MAIL,1,1700000000000,\n"   // 8
                      << "lead,,gone.mail@example.org,ALL,0,1700000000000,\n"       // 9
                      << "user,,gone-user,topic:news,1,1700000000000,\n";           // 10
  const std::string erased = ": erased: lift it with an explicit Opt In first";
  auto check_report = [&](const CtlRun& r) {
    INFO(r.err);
    CHECK(r.status == 1);
    for (int line : {2, 4, 6, 8, 9, 10}) {
      CHECK(r.err.find(file + ":" + std::to_string(line) + erased) != std::string::npos);
    }
    CHECK(count_of(r.err, "erased: ") == 6);
    const json summary = json::parse(r.out);
    CHECK(summary["rows"] == 9);
    CHECK(summary["failed"] == 6);
    CHECK(summary["applied"] == 3);
  };

  SECTION("a dry run reports them and writes nothing") {
    const auto before = everything(redis);
    check_report(ctl(dir, {"import", file, "--dry-run"}, rig.opts.http_port));
    CHECK(everything(redis) == before);
  }
  SECTION("the other rows are applied, the erased ones leave no trace") {
    check_report(ctl(dir, {"import", file}, rig.opts.http_port));
    const auto after = everything(redis);
    CHECK_FALSE(mentions(after, "gone-user"));
    CHECK_FALSE(mentions(after, "gone.lead@example.net"));
    CHECK_FALSE(mentions(after, "gone.mail@example.org"));
    CHECK_FALSE(mentions(after, "15550009876"));
    CHECK(hget(redis, "gk:u::kept-user", "MAIL") == "1");
    CHECK(hget(redis, "gk:l::kept.lead@example.net", "SMS") == "1");
    CHECK(hget(redis, "gk:a:SMS:+15550001111", "suppressed") == "1");
    // The tombstones stay: messages to them are still suppressed.
    CHECK(rig.eventually_outcome("suppressed/erased", "MAIL", {{"id", "gone-user"}},
                                 "x@example.com") == "suppressed/erased");
  }
}

TEST_CASE("e2e erasure: an Opt Out by the API or an event puts nobody back", "[e2e][erasure]") {
  RedisServer redis;
  AddrRig rig(addr_options(redis.port(), erasure_toml()));
  rig.start();
  const std::string id = "gone-7731", email = "Gone.Person@Example.org";
  seed_and_erase(rig, redis, id, email, "+1 555 000 4242");
  auto stream_size = [&] {
    return AddrRig::stream([&](const std::vector<std::string>& a) { return redis.command(a); })
        .size();
  };
  const std::size_t stream_before = stream_size();

  SECTION("the API PUTs answer 404, as the reads do") {
    const AddrAnswer optout =
        rig.call("PUT", "/users/" + id + "/optout-status?channelType=MAIL", R"({"optOut": true})");
    CHECK(optout.status == 404);
    CHECK(optout.raw.find("erased") != std::string::npos);
    CHECK(
        rig.call("PUT", "/users/" + id + "/blacklist-status", R"({"blacklisted": true})").status ==
        404);
    CHECK(
        rig.call("PUT", "/users/" + id + "/blacklist-status", R"({"blacklisted": false})").status ==
        404);
    CHECK(rig.call("PUT", "/users/" + id + "/topics/news", R"({"subscribed": false})").status ==
          404);
    // Someone else's PUT still works.
    CHECK(rig.call("PUT", "/users/someone/optout-status?channelType=MAIL", R"({"optOut": true})")
              .status == 200);
  }
  SECTION("events are accepted and change nothing, publish nothing") {
    for (const json& who :
         {json{{"id", id}}, json{{"email", email}}, json{{"id", "new-person"}, {"email", email}},
          json{{"id", id}, {"email", "fresh@example.org"}}}) {
      json body = who;
      body["events"] = json::array(
          {{{"event", "Opt Out"}, {"channel.type", "MAIL"}}, {{"event", "Email Opened"}}});
      const AddrAnswer a = rig.event(body);
      INFO(body.dump() << " -> " << a.raw);
      REQUIRE(a.status == 202);
      CHECK(a.body["results"][0]["status"] == "accepted");
      CHECK(a.body["results"][0]["changed"] == false);
      CHECK(a.body["results"][1]["status"] == "accepted");
    }
    CHECK(stream_size() == stream_before);
    CHECK(redis.command({"EXISTS", "gk:u::new-person"})->integer == 0);
    CHECK(redis.command({"EXISTS", "gk:l::fresh@example.org"})->integer == 0);
  }
  SECTION("address changes of their e-mail and phone write nothing back") {
    const AddrAnswer put =
        rig.call("PUT", "/addresses/MAIL/gone.person@example.org", R"({"suppressed": true})");
    CHECK(put.status == 404);
    CHECK(put.raw.find("erased") != std::string::npos);
    CHECK(rig.call("PUT", "/addresses/SMS/+15550004242", R"({"suppressed": false})").status == 404);
    const AddrAnswer bounce = rig.event(
        {{"email", email},
         {"events",
          json::array({{{"event", "mail.bounce"}, {"properties", {{"type", "hard"}}}}})}});
    REQUIRE(bounce.status == 202);
    CHECK(bounce.body["results"][0]["changed"] == false);
    for (const char* body : {"STOP", "START"}) {
      const AddrAnswer sms = rig.event(
          {{"events",
            json::array({{{"event", "sms.inbound"},
                          {"properties", {{"from", "+1 555 000 4242"}, {"body", body}}}}})}});
      REQUIRE(sms.status == 202);
      CHECK(sms.body["results"][0]["changed"] == false);
    }
    CHECK(stream_size() == stream_before);
    CHECK_FALSE(mentions(everything(redis), "15550004242"));
    CHECK(rig.outcome("SMS", {{"id", "new-person"}}, "+15550004242") == "suppressed/erased");
  }
  const auto after = everything(redis);
  CHECK_FALSE(mentions(after, id));
  CHECK_FALSE(mentions(after, "gone.person@example.org"));
  CHECK(rig.call("GET", "/users/" + id + "/optout-status?channelType=MAIL").status == 404);

  // An explicit Opt In still lifts it, and only then is the person stored again.
  REQUIRE(
      rig.call("PUT", "/users/" + id + "/optout-status?channelType=MAIL", R"({"optOut": false})")
          .status == 200);
  CHECK(rig.call("PUT", "/users/" + id + "/optout-status?channelType=SMS", R"({"optOut": true})")
            .status == 200);
  CHECK(mentions(everything(redis), id));
}

TEST_CASE("e2e erasure: an erased person's unsubscribe link pages answer 404", "[e2e][erasure]") {
  RedisServer redis;
  AddrRig rig(addr_options(redis.port(), erasure_toml()));
  rig.start();
  const std::string id = "gone-link", email = "gone.link@example.org";
  auto issue = [&](const json& user) {
    const AddrAnswer a =
        rig.call("POST", "/unsubscribe-links",
                 json{{"links", json::array({{{"user", user}, {"all", true}}})}}.dump());
    REQUIRE(a.status == 200);
    const std::string url = a.body["links"][0]["url"];
    return url.substr(std::string("https://mail.example.com/gk").size());
  };
  const std::string by_id = issue({{"id", id}});
  const std::string by_email = issue({{"email", email}});
  const std::string other = issue({{"id", "still-here"}});
  httplib::Client client("127.0.0.1", rig.opts.http_port);
  client.set_read_timeout(10, 0);
  constexpr const char* kForm = "application/x-www-form-urlencoded";
  auto get = [&](const std::string& path) {
    const auto r = client.Get(path);
    return r ? r->status : -1;
  };
  auto post = [&](const std::string& path, const std::string& body) {
    const auto r = client.Post(path, body, kForm);
    return r ? r->status : -1;
  };
  REQUIRE(get(by_id) == 200);
  seed_and_erase(rig, redis, id, email, "+1 555 000 5151");

  for (const std::string& page : {by_id, by_email}) {
    INFO(page);
    CHECK(get(page) == 404);
    CHECK(post(page, "List-Unsubscribe=One-Click") == 404);
    CHECK(post(page + "/preferences", "form=preferences") == 404);
  }
  const auto after = everything(redis);
  CHECK_FALSE(mentions(after, id));
  CHECK_FALSE(mentions(after, email));
  // Someone else's link still works.
  CHECK(get(other) == 200);
  CHECK(post(other, "List-Unsubscribe=One-Click") == 200);
  CHECK(hget(redis, "gk:u::still-here", "ALL") == "1");
}

// Future-dated changes (issue 11, defect 1) through the built binary: a change dated past
// now + changes.max_future_ms is stored with the time of receipt, so every later real
// opt-out (API, mail.unsubscribe, Opt Out event) still wins and the next message is
// suppressed; a stored time past the bound (written by hand) loses to a real change.
#include <catch2/catch.hpp>

#include "tests/support/api_rig.h"

#include "common/util/timestamp.h"

using namespace gk;
using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr EpochMs kBoundMs = 300000;  // the default of changes.max_future_ms
constexpr EpochMs kTenYearsMs = EpochMs{3653} * 86400 * 1000;

json body(const std::string& id, const std::string& event, const std::string& channel,
          const json& ts) {
  json e = {{"event", event}};
  if (!channel.empty()) e["channel.type"] = channel;
  if (!ts.is_null()) e["timestamp"] = ts;
  return {{"id", id}, {"events", {e}}};
}

// A stored change time must never lie past the receiving clock + the bound.
void check_stored_time(LimitsRig& rig, const std::string& key, const std::string& field) {
  const std::string text = rig.hget(key, field + ":ts");
  INFO(key << " " << field << ":ts = " << text);
  REQUIRE_FALSE(text.empty());
  CHECK(std::stoll(text) <= now_ms() + kBoundMs);
}

}  // namespace

TEST_CASE("e2e limits: a far-future Opt In is clamped and every real opt-out still wins",
          "[e2e][limits][time]") {
  LimitsRig rig;
  rig.start();
  const std::vector<std::pair<std::string, json>> future = {
      {"year 9999", "9999-12-31T23:59:59.999Z"},
      {"ten years ahead, ISO", format_iso8601(now_ms() + kTenYearsMs)},
      {"+14:00 offset", "9999-12-31T23:59:59.999+14:00"},
      {"ms since the epoch, far future", kMaxEpochMs},
      {"ten years ahead, ms", now_ms() + kTenYearsMs},
  };
  const std::vector<std::string> opt_outs = {"api", "mail.unsubscribe", "Opt Out event"};
  int n = 0;
  for (const auto& [label, ts] : future) {
    for (const std::string& how : opt_outs) {
      const std::string id = "u" + std::to_string(++n);
      INFO(label << ", then an opt-out by " << how << " (user " << id << ")");
      // The future-dated Opt In, by POST /events: accepted, and the answer says it was clamped.
      const ApiAnswer in = rig.call("POST", "/events", body(id, "Opt In", "MAIL", ts).dump());
      REQUIRE(in.status == 202);
      CHECK(in.body["results"][0]["status"] == "accepted");
      CHECK(in.body["results"][0]["timestampClamped"] == true);
      check_stored_time(rig, "gk:u::" + id, "MAIL");
      CHECK(rig.outcome("MAIL", {{"id", id}}) == "MAIL");

      if (how == "api") {
        const ApiAnswer out = rig.call("PUT", "/users/" + id + "/optout-status?channelType=MAIL",
                                       R"({"optOut": true})");
        REQUIRE(out.status == 200);
        CHECK(out.body["applied"] == true);
        CHECK(out.body["optOut"] == true);
      } else if (how == "mail.unsubscribe") {
        const ApiAnswer out =
            rig.call("POST", "/events", body(id, "mail.unsubscribe", "", nullptr).dump());
        REQUIRE(out.status == 202);
        CHECK(out.body["results"][0]["changed"] == true);
      } else {
        // On the events socket: no answer, so the message outcome is the check.
        rig.events->send(Frames{body(id, "Opt Out", "MAIL", nullptr).dump()});
      }
      CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", {{"id", id}}));
      CHECK(rig.hget("gk:u::" + id, "MAIL") == "1");
    }
  }
  const std::string metrics = rig.metrics();
  CHECK(metrics.find(R"(gk_change_timestamps_clamped_total{source="event"} 15)") !=
        std::string::npos);
  CHECK(rig.gk->log().find("changes.max_future_ms") != std::string::npos);
}

TEST_CASE("e2e limits: a far-future Opt In on the events socket is clamped too",
          "[e2e][limits][time]") {
  LimitsRig rig;
  rig.start();
  rig.events->send(Frames{body("sock", "Opt In", "MAIL", "9999-12-31T23:59:59.999Z").dump()});
  const auto e = rig.next_event();
  REQUIRE(e);
  CHECK(e->topic == "Opt In");
  CHECK(e->map["timestampClamped"] == true);
  check_stored_time(rig, "gk:u::sock", "MAIL");
  rig.events->send(Frames{body("sock", "Opt Out", "MAIL", nullptr).dump()});
  CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", {{"id", "sock"}}));
}

TEST_CASE("e2e limits: a far-future Whitelisted does not outrank a later blacklisting",
          "[e2e][limits][time]") {
  LimitsRig rig;
  rig.start();
  for (const std::string how : {"api", "Blacklisted event"}) {
    const std::string id = "w-" + how.substr(0, 3);
    INFO(how);
    const ApiAnswer in =
        rig.call("POST", "/events", body(id, "Whitelisted", "", "9999-12-31T23:59:59.999Z").dump());
    REQUIRE(in.status == 202);
    CHECK(in.body["results"][0]["timestampClamped"] == true);
    check_stored_time(rig, "gk:u::" + id, "BLACKLIST");
    if (how == "api") {
      const ApiAnswer out =
          rig.call("PUT", "/users/" + id + "/blacklist-status", R"({"blacklisted": true})");
      REQUIRE(out.status == 200);
      CHECK(out.body["applied"] == true);
      CHECK(out.body["blacklisted"] == true);
    } else {
      const ApiAnswer out =
          rig.call("POST", "/events", body(id, "Blacklisted", "", nullptr).dump());
      REQUIRE(out.status == 202);
      CHECK(out.body["results"][0]["changed"] == true);
    }
    CHECK(rig.eventually_outcome("suppressed/blacklisted", "MAIL", {{"id", id}}));
  }
}

TEST_CASE("e2e limits: a time slightly ahead, within the bound, is kept as given",
          "[e2e][limits][time]") {
  LimitsRig rig;
  rig.start();
  const EpochMs ahead = now_ms() + 60000;  // a minute of producer clock skew
  const ApiAnswer a = rig.call("POST", "/events", body("skew", "Opt Out", "MAIL", ahead).dump());
  REQUIRE(a.status == 202);
  CHECK_FALSE(a.body["results"][0].contains("timestampClamped"));
  CHECK(rig.hget("gk:u::skew", "MAIL:ts") == std::to_string(ahead));
  const auto e = rig.next_event();
  REQUIRE(e);
  CHECK(e->map["timestamp"] == format_iso8601(ahead));
  CHECK_FALSE(e->map.contains("timestampClamped"));
  // Within the bound it is a real time: an older change loses against it.
  const ApiAnswer older =
      rig.call("POST", "/events", body("skew", "Opt In", "MAIL", ahead - 1000).dump());
  REQUIRE(older.status == 202);
  CHECK(older.body["results"][0]["changed"] == false);
  CHECK(rig.hget("gk:u::skew", "MAIL") == "1");
}

TEST_CASE("e2e limits: a poisoned stored time written directly is overridden by a real change",
          "[e2e][limits][time]") {
  LimitsRig rig;
  // Another job (or a hand edit) wrote an opt-in dated in the year 9999.
  rig.redis.command({"HSET", "gk:u::p1", "MAIL", "0", "MAIL:ts", std::to_string(kMaxEpochMs)});
  rig.redis.command({"HSET", "gk:u::p2", "MAIL", "0", "MAIL:ts", std::to_string(kMaxEpochMs)});
  rig.redis.command({"HSET", "gk:l::lead@example.com", "MAIL", "0", "MAIL:ts",
                     std::to_string(now_ms() + kTenYearsMs)});
  rig.start();

  const ApiAnswer api =
      rig.call("PUT", "/users/p1/optout-status?channelType=MAIL", R"({"optOut": true})");
  REQUIRE(api.status == 200);
  CHECK(api.body["applied"] == true);
  CHECK(api.body["changed"] == true);
  check_stored_time(rig, "gk:u::p1", "MAIL");
  CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", {{"id", "p1"}}));

  const ApiAnswer ev =
      rig.call("POST", "/events", body("p2", "mail.unsubscribe", "", nullptr).dump());
  REQUIRE(ev.status == 202);
  CHECK(ev.body["results"][0]["changed"] == true);
  CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", {{"id", "p2"}}));

  const json lead_out = {{"email", "lead@example.com"},
                         {"events", {{{"event", "Opt Out"}, {"channel.type", "MAIL"}}}}};
  const ApiAnswer lead = rig.call("POST", "/events", lead_out.dump());
  REQUIRE(lead.status == 202);
  CHECK(lead.body["results"][0]["changed"] == true);
  check_stored_time(rig, "gk:l::lead@example.com", "MAIL");
  CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", {{"email", "lead@example.com"}}));

  SECTION("a poisoned lead merged into its user does not outrank the user's real opt-out") {
    rig.redis.command(
        {"HSET", "gk:l::merge@example.com", "MAIL", "0", "MAIL:ts", std::to_string(kMaxEpochMs)});
    const ApiAnswer out =
        rig.call("PUT", "/users/m1/optout-status?channelType=MAIL", R"({"optOut": true})");
    REQUIRE(out.status == 200);
    const json link = {
        {"id", "m1"}, {"email", "merge@example.com"}, {"events", {{{"event", "x"}}}}};
    REQUIRE(rig.call("POST", "/events", link.dump()).status == 202);
    CHECK(rig.hget("gk:u::m1", "MAIL") == "1");
    CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL",
                                 {{"email", "merge@example.com"}}));
  }
}

TEST_CASE("e2e limits: a published system event is never dated past the bound",
          "[e2e][limits][time]") {
  LimitsRig rig;
  rig.start();
  // A status change and an event that changes no status, both far ahead.
  const json far = {
      {"id", "pub"},
      {"events",
       {{{"event", "Opt In"}, {"channel.type", "MAIL"}, {"timestamp", "9999-12-31T23:59:59Z"}},
        {{"event", "Page Viewed"}, {"timestamp", kMaxEpochMs}}}}};
  const ApiAnswer a = rig.call("POST", "/events", far.dump());
  REQUIRE(a.status == 202);
  for (int i = 0; i < 2; ++i) {
    const auto e = rig.next_event();
    REQUIRE(e);
    INFO(e->topic << " " << e->map.dump());
    const auto ts = parse_iso8601(e->map["timestamp"].get<std::string>());
    REQUIRE(ts);
    CHECK(*ts <= now_ms() + kBoundMs);
    CHECK(e->map["timestampClamped"] == true);
  }
  // The stream holds the same times.
  const auto entries = rig.redis.command({"XRANGE", "gk:events", "-", "+"});
  REQUIRE(entries);
  int checked = 0;
  for (std::size_t i = 0; i < entries->elements; ++i) {
    const redisReply* fields = entries->element[i]->element[1];
    for (std::size_t j = 0; j + 1 < fields->elements; j += 2) {
      if (std::string(fields->element[j]->str) != "timestamp") continue;
      const auto ts = parse_iso8601(fields->element[j + 1]->str);
      REQUIRE(ts);
      CHECK(*ts <= now_ms() + kBoundMs);
      ++checked;
    }
  }
  CHECK(checked >= 2);
}

TEST_CASE("e2e limits: [changes] max_future_ms is configurable", "[e2e][limits][time]") {
  LimitsRig rig;
  rig.opts.extra_toml = "[changes]\nmax_future_ms = 0\n";
  rig.start();
  // With no allowance, even a minute ahead is clamped.
  const ApiAnswer a =
      rig.call("POST", "/events", body("z", "Opt Out", "MAIL", now_ms() + 60000).dump());
  REQUIRE(a.status == 202);
  CHECK(a.body["results"][0]["timestampClamped"] == true);
  CHECK(std::stoll(rig.hget("gk:u::z", "MAIL:ts")) <= now_ms());
}

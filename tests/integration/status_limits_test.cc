// The limits of a status write (issue 11, defects 1 and 5) against a real redis-server and a
// real 3-primary cluster: far-future change times are clamped, stored times past the bound
// lose to any real change (also when merged from a lead), and a user's linked emails stay
// at max_emails_per_user while the change of a refused email still reaches its lead record.
#include <catch2/catch.hpp>

#include <chrono>

#include "common/store/key_schema.h"
#include "common/store/status_script.h"
#include "tests/support/redis_server.h"
#include "tests/support/store_backends.h"

using namespace gk;
using namespace gk::test;

namespace {

template <typename Store>
struct LimitRig {
  Store store;
  RedisConfig config = store.config();
  StatusLimits limits;
  RedisRouter::Ptr conn = connect();

  RedisRouter::Ptr connect() {
    auto c = RedisRouter::connect(config);
    INFO(c.error());
    REQUIRE(c);
    return std::move(c).value();
  }

  StatusWriteResult write(const std::string& id, const std::string& email, const std::string& field,
                          bool value, EpochMs ts, EpochMs received) {
    StatusWrite w;
    w.external_id = id;
    w.email = email;
    w.field = field;
    w.value = value;
    w.ts = ts;
    w.received = received;
    w.source = "event";
    w.event = value ? "Opt Out" : "Opt In";
    auto r = run_status_script(*conn, config, w, limits);
    INFO(r.error());
    REQUIRE(r);
    return *r;
  }

  std::string hget(const std::string& key, const std::string& field) {
    auto r = store.command({"HGET", key, field});
    return r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : std::string("(nil)");
  }
  long long integer(const std::vector<std::string>& cmd) { return store.command(cmd)->integer; }
};

constexpr EpochMs kNow = 1795688100123;  // the writer's clock in these tests
constexpr EpochMs kFar = kMaxEpochMs;

}  // namespace

TEMPLATE_TEST_CASE("status limits: a far-future change is stored with the time of receipt",
                   "[writes][limits]", OneServer, Cluster) {
  LimitRig<TestType> rig;
  rig.limits.now = kNow;
  const auto in = rig.write("u1", "", "MAIL", false, kFar, kNow);
  CHECK(in.applied);
  CHECK(in.timestamp_clamped);
  CHECK(in.ts == kNow);
  CHECK(rig.hget("gk:u::u1", "MAIL:ts") == std::to_string(kNow));
  // A real opt-out a second later wins.
  const auto out = rig.write("u1", "", "MAIL", true, kNow + 1000, kNow + 1000);
  CHECK(out.applied);
  CHECK(out.changed);
  CHECK_FALSE(out.timestamp_clamped);
  CHECK(rig.hget("gk:u::u1", "MAIL") == "1");

  SECTION("within the bound a time is kept as given and outranks older changes") {
    const EpochMs ahead = kNow + rig.limits.max_future_ms;
    const auto r = rig.write("u2", "", "MAIL", true, ahead, kNow);
    CHECK_FALSE(r.timestamp_clamped);
    CHECK(rig.hget("gk:u::u2", "MAIL:ts") == std::to_string(ahead));
    CHECK_FALSE(rig.write("u2", "", "MAIL", false, kNow + 2000, kNow + 2000).applied);
  }
}

TEMPLATE_TEST_CASE("status limits: a stored time past the bound loses to any real change",
                   "[writes][limits]", OneServer, Cluster) {
  LimitRig<TestType> rig;
  rig.limits.now = kNow;
  rig.store.command({"HSET", "gk:u::p", "MAIL", "0", "MAIL:ts", std::to_string(kFar)});
  const auto r = rig.write("p", "", "MAIL", true, kNow - 5000, kNow);
  CHECK(r.applied);
  CHECK(r.changed);
  CHECK(rig.hget("gk:u::p", "MAIL:ts") == std::to_string(kNow - 5000));

  SECTION("the same on a linked lead's record") {
    rig.store.command({"HSET", "gk:l::a@x.com", "MAIL", "0", "MAIL:ts", std::to_string(kFar)});
    rig.write("q", "a@x.com", "", false, kNow, kNow);  // links and merges the lead
    rig.write("q", "", "MAIL", true, kNow, kNow);
    CHECK(rig.hget("gk:u::q", "MAIL") == "1");
  }
  SECTION("a poisoned lead merged into a user does not outrank the user's time") {
    rig.write("m", "", "MAIL", true, kNow - 10, kNow);
    rig.store.command({"HSET", "gk:l::b@x.com", "MAIL", "0", "MAIL:ts", std::to_string(kFar)});
    rig.write("m", "b@x.com", "", false, kNow, kNow);
    CHECK(rig.hget("gk:u::m", "MAIL") == "1");
    CHECK(rig.hget("gk:u::m", "MAIL:ts") == std::to_string(kNow - 10));
  }
}

TEMPLATE_TEST_CASE("status limits: a user's linked emails stop at max_emails_per_user",
                   "[writes][limits][fanout]", OneServer, Cluster) {
  LimitRig<TestType> rig;
  rig.limits.now = kNow;
  rig.limits.max_emails_per_user = 5;
  for (int i = 0; i < 5; ++i) {
    const auto r = rig.write("guest", "e" + std::to_string(i) + "@x.com", "", false, kNow, kNow);
    CHECK_FALSE(r.link_refused);
  }
  CHECK(rig.integer({"SCARD", "gk:ue::guest"}) == 5);

  // The sixth: not linked, the change goes to the user and to the email's lead.
  const auto r = rig.write("guest", "E5@x.com", "MAIL", true, kNow, kNow);
  CHECK(r.link_refused);
  CHECK(r.applied);
  CHECK(rig.integer({"SCARD", "gk:ue::guest"}) == 5);
  CHECK(rig.integer({"EXISTS", "gk:id::e5@x.com"}) == 0);
  CHECK(rig.hget("gk:u::guest", "MAIL") == "1");
  CHECK(rig.hget("gk:l::e5@x.com", "MAIL") == "1");

  SECTION("an email already linked is not refused, and its changes reach the user") {
    const auto again = rig.write("guest", "e2@x.com", "SMS", true, kNow + 1, kNow + 1);
    CHECK_FALSE(again.link_refused);
    CHECK(rig.hget("gk:u::guest", "SMS") == "1");
  }
  SECTION("by email alone, the refused email's later changes go to its lead") {
    const auto in = rig.write("", "e5@x.com", "MAIL", false, kNow + 5, kNow + 5);
    CHECK_FALSE(in.link_refused);
    CHECK(rig.hget("gk:l::e5@x.com", "MAIL") == "0");
    CHECK(rig.hget("gk:u::guest", "MAIL") == "1");
  }
  SECTION("a link-only write reports the refusal too") {
    const auto link = rig.write("guest", "e6@x.com", "", false, kNow, kNow);
    CHECK(link.link_refused);
    CHECK(rig.integer({"SCARD", "gk:ue::guest"}) == 5);
  }
  SECTION("an email that leaves frees its place") {
    rig.write("other", "e0@x.com", "", false, kNow, kNow);
    CHECK(rig.integer({"SCARD", "gk:ue::guest"}) == 4);
    CHECK_FALSE(rig.write("guest", "e5@x.com", "", false, kNow, kNow).link_refused);
    CHECK(rig.integer({"SCARD", "gk:ue::guest"}) == 5);
    // Linking merged the lead's opt-out into the user.
    CHECK(rig.integer({"EXISTS", "gk:l::e5@x.com"}) == 0);
  }
}

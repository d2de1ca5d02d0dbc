// Status writes against a real redis-server: the Lua script's last-writer-wins, linking,
// history and concurrency (the StatusService around it: status_service_test.cc).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/store/key_schema.h"
#include "common/store/status_reader.h"
#include "common/store/status_script.h"
#include "tests/support/ports.h"
#include "tests/support/redis_reply.h"
#include "tests/support/redis_server.h"
#include "tests/support/store_backends.h"

using namespace gk;
using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

template <typename Store>
struct WriteRig {
  Store store;
  RedisConfig config = [this] {
    RedisConfig c = store.config();
    c.history_length = 5;
    return c;
  }();
  RedisRouter::Ptr conn = connect();

  RedisRouter::Ptr connect() {
    auto c = RedisRouter::connect(config);
    INFO(c.error());
    REQUIRE(c);
    return std::move(c).value();
  }

  StatusWriteResult write(const std::string& id, const std::string& email, const std::string& field,
                          bool value, EpochMs ts, const std::string& bu = "") {
    StatusWrite w;
    w.bu = bu;
    w.external_id = id;
    w.email = email;
    w.field = field;
    w.value = value;
    w.ts = ts;
    w.received = ts;
    w.source = "event";
    w.event = value ? "Opt Out" : "Opt In";
    w.properties = R"({"status":"test"})";
    auto r = run_status_script(*conn, config, w);
    INFO(r.error());
    REQUIRE(r);
    return *r;
  }

  RedisReplyPtr command(const std::vector<std::string>& args) { return store.command(args); }
  std::string hget(const std::string& key, const std::string& field) {
    return reply_text(store.command({"HGET", key, field}).get()).value_or("(nil)");
  }
  long long integer(const std::vector<std::string>& cmd) { return store.command(cmd)->integer; }
  // A person's history key in the layout of this store.
  std::string hkey(bool lead, const std::string& bu, const std::string& who) const {
    return KeySchema(config.key_prefix, Store::kCluster).history(lead, bu, who);
  }
  std::vector<json> history(const std::string& key) {
    auto r = store.command({"LRANGE", key, "0", "-1"});
    std::vector<json> out;
    REQUIRE(r->type == REDIS_REPLY_ARRAY);
    for (std::size_t i = 0; i < r->elements; ++i) {
      const auto entry = reply_text(r->element[i]);
      REQUIRE(entry);
      out.push_back(json::parse(*entry));
    }
    return out;
  }
};

}  // namespace

TEMPLATE_TEST_CASE("status writes: last writer wins by time, not by arrival", "[writes]", OneServer,
                   Cluster) {
  WriteRig<TestType> rig;
  SECTION("out of order: Opt Out at T2, then Opt In at T1 < T2, leaves the person opted out") {
    auto out = rig.write("u1", "", "MAIL", true, 2000);
    CHECK(out.applied);
    CHECK(out.changed);
    CHECK_FALSE(out.old_value);
    auto in = rig.write("u1", "", "MAIL", false, 1000);
    CHECK_FALSE(in.applied);
    CHECK_FALSE(in.changed);
    CHECK(in.old_value);
    CHECK(rig.hget("gk:u::u1", "MAIL") == "1");
    CHECK(rig.hget("gk:u::u1", "MAIL:ts") == "2000");
    SECTION("the late change is recorded in history, marked not applied") {
      const auto h = rig.history(rig.hkey(false, "", "u1"));
      REQUIRE(h.size() == 2);
      CHECK(h[0]["ts"] == 1000);
      CHECK(h[0]["new"] == false);
      CHECK(h[0]["old"] == true);
      CHECK(h[0]["applied"] == false);
      CHECK(h[0]["channel"] == "MAIL");
      CHECK(h[0]["source"] == "event");
      CHECK(h[0]["event"] == "Opt In");
      CHECK(h[0]["properties"] == json{{"status", "test"}});
      CHECK(h[1]["applied"] == true);
    }
  }
  SECTION("in order: the newer change applies") {
    rig.write("u1", "", "MAIL", true, 1000);
    auto in = rig.write("u1", "", "MAIL", false, 2000);
    CHECK(in.applied);
    CHECK(in.changed);
    CHECK(rig.hget("gk:u::u1", "MAIL") == "0");
  }
  SECTION("an equal time applies again (a retried write is idempotent)") {
    rig.write("u1", "", "SMS", true, 1000);
    auto again = rig.write("u1", "", "SMS", true, 1000);
    CHECK(again.applied);
    CHECK_FALSE(again.changed);
  }
  SECTION("a value written by another job without a time loses to any timed change") {
    rig.command({"HSET", "gk:u::u1", "MAIL", "1"});
    auto in = rig.write("u1", "", "MAIL", false, 1);
    CHECK(in.applied);
    CHECK(in.old_value);
    CHECK(rig.hget("gk:u::u1", "MAIL") == "0");
  }
  SECTION("fields are independent") {
    rig.write("u1", "", "ALL", true, 5000);
    CHECK(rig.write("u1", "", "MAIL", true, 1000).applied);
    CHECK(rig.write("u1", "", "BLACKLIST", true, 1000).applied);
  }
}

TEMPLATE_TEST_CASE("status writes: leads are keyed by business unit and lower-cased email",
                   "[writes]", OneServer, Cluster) {
  WriteRig<TestType> rig;
  rig.write("", "Lead@Example.COM", "SMS", true, 1000, "bu1");
  CHECK(rig.hget("gk:l:bu1:lead@example.com", "SMS") == "1");
  CHECK(rig.integer({"EXISTS", "gk:l::lead@example.com"}) == 0);
  CHECK(rig.history(rig.hkey(true, "bu1", "lead@example.com")).size() == 1);
}

TEMPLATE_TEST_CASE("status writes: a custom key prefix is used for every key", "[writes]",
                   OneServer, Cluster) {
  WriteRig<TestType> rig;
  rig.config.key_prefix = "app:";
  rig.write("u1", "a@x", "MAIL", true, 1000);
  CHECK(rig.hget("app:u::u1", "MAIL") == "1");
  CHECK(rig.integer({"EXISTS", "app:id::a@x"}) == 1);
  CHECK(rig.integer({"EXISTS", "gk:u::u1"}) == 0);
}

TEMPLATE_TEST_CASE("status writes: linking merges the lead into the user, newer change per field",
                   "[writes][identity]", OneServer, Cluster) {
  WriteRig<TestType> rig;
  // The lead's MAIL opt-out is older than the user's MAIL opt-in; its SMS opt-out is newer
  // than the user's SMS opt-in; its PUSH field has no time; the user has no PUSH at all.
  rig.command({"HSET", "gk:l:bu:a@x.com", "MAIL", "1", "MAIL:ts", "100", "SMS", "1", "SMS:ts",
               "300", "PUSH_NOTIFICATION", "1"});
  rig.command({"HSET", "gk:u:bu:u1", "MAIL", "0", "MAIL:ts", "200", "SMS", "0", "SMS:ts", "50",
               "ALL", "0", "ALL:ts", "10"});
  // A link-only write (an event carrying both identities, no status change).
  rig.write("u1", "A@X.com", "", false, 0, "bu");

  CHECK(rig.hget("gk:u:bu:u1", "MAIL") == "0");
  CHECK(rig.hget("gk:u:bu:u1", "MAIL:ts") == "200");
  CHECK(rig.hget("gk:u:bu:u1", "SMS") == "1");
  CHECK(rig.hget("gk:u:bu:u1", "SMS:ts") == "300");
  CHECK(rig.hget("gk:u:bu:u1", "PUSH_NOTIFICATION") == "1");
  CHECK(rig.hget("gk:u:bu:u1", "ALL") == "0");
  CHECK(rig.integer({"EXISTS", "gk:l:bu:a@x.com"}) == 0);
  CHECK(rig.hget("gk:u:bu:u1", "SMS") == "1");
  auto link = rig.command({"GET", "gk:id:bu:a@x.com"});
  CHECK(reply_text(link.get()) == "u1");
  CHECK(rig.integer({"SISMEMBER", "gk:ue:bu:u1", "a@x.com"}) == 1);
  CHECK(rig.integer({"EXISTS", rig.hkey(false, "bu", "u1")}) == 0);  // a link alone is not a change

  SECTION("later changes by email apply to the user") {
    auto r = rig.write("", "a@x.com", "MAIL", true, 400, "bu");
    CHECK(r.applied);
    CHECK(r.changed);
    CHECK(rig.hget("gk:u:bu:u1", "MAIL") == "1");
    CHECK(rig.integer({"EXISTS", "gk:l:bu:a@x.com"}) == 0);
    CHECK(rig.history(rig.hkey(false, "bu", "u1")).size() == 1);
  }
  SECTION("relinking the email to another user moves the reverse link") {
    rig.write("u2", "a@x.com", "", false, 0, "bu");
    CHECK(rig.integer({"SISMEMBER", "gk:ue:bu:u1", "a@x.com"}) == 0);
    CHECK(rig.integer({"SISMEMBER", "gk:ue:bu:u2", "a@x.com"}) == 1);
  }
}

TEMPLATE_TEST_CASE("status writes: an Opt In never leaves an older opt-out on a linked record",
                   "[writes][identity]", OneServer, Cluster) {
  WriteRig<TestType> rig;
  rig.write("", "a@x.com", "MAIL", true, 100);  // lead opts out
  rig.write("u1", "a@x.com", "", false, 0);     // linked: merged, lead gone
  // Another job writes the lead record again afterwards, as it may.
  rig.command({"HSET", "gk:l::a@x.com", "MAIL", "1", "MAIL:ts", "150"});
  auto in = rig.write("u1", "", "MAIL", false, 200);
  CHECK(in.applied);
  CHECK(rig.hget("gk:u::u1", "MAIL") == "0");
  CHECK(rig.hget("gk:l::a@x.com", "MAIL") == "0");

  // The message path reads both records: neither says opted out any more.
  ChannelRegistry channels{{ChannelConfig{"MAIL", {"EMAIL"}, "tcp://x:1", true, 1}}};
  StatusReader reader(rig.config, CacheConfig{}, channels);
  REQUIRE(reader.connect());
  for (const PersonRef& p :
       {PersonRef{"", "", "a@x.com"}, PersonRef{"", "u1", "A@X.com"}, PersonRef{"", "u1", ""}}) {
    reader.want(p);
    REQUIRE(reader.fetch());
    OptOutRecord record;
    REQUIRE(reader.resolve(p, record));
    CHECK_FALSE(record.opted_out(0));
    reader.end_batch();
  }
}

TEMPLATE_TEST_CASE("status writes: history keeps the newest N entries", "[writes][history]",
                   OneServer, Cluster) {
  WriteRig<TestType> rig;
  for (int i = 1; i <= 8; ++i) rig.write("u1", "", "MAIL", i % 2 == 1, i * 1000);
  const auto h = rig.history(rig.hkey(false, "", "u1"));
  REQUIRE(h.size() == 5);
  CHECK(h.front()["ts"] == 8000);
  CHECK(h.back()["ts"] == 4000);
  CHECK(h.front()["timestamp"] == "1970-01-01T00:00:08.000Z");
}

TEMPLATE_TEST_CASE("status writes: the script is reloaded after SCRIPT FLUSH", "[writes]",
                   OneServer, Cluster) {
  WriteRig<TestType> rig;
  rig.write("u1", "", "MAIL", true, 1000);
  rig.command({"SCRIPT", "FLUSH"});
  CHECK(rig.write("u1", "", "MAIL", false, 2000).applied);
  CHECK(rig.write("u1", "", "MAIL", true, 3000).applied);
  CHECK(rig.hget("gk:u::u1", "MAIL") == "1");
}

TEMPLATE_TEST_CASE("status writes: a key of the wrong type is an error, not a silent no-op",
                   "[writes]", OneServer, Cluster) {
  WriteRig<TestType> rig;
  rig.command({"SET", "gk:u::weird", "1"});
  StatusWrite w;
  w.external_id = "weird";
  w.field = "MAIL";
  w.value = true;
  w.ts = 1;
  const auto written = run_status_script(*rig.conn, rig.config, w);
  CHECK_FALSE(written);
  CHECK(written.error().find("WRONGTYPE") != std::string::npos);
}

TEMPLATE_TEST_CASE("status writes: a business unit that would break the key layout is refused",
                   "[writes]", OneServer, Cluster) {
  WriteRig<TestType> rig;
  StatusWrite w;
  w.bu = "a:b";  // would read as business unit "a", external id "b:u1"
  w.external_id = "u1";
  w.email = "ann@x.com";
  w.field = "MAIL";
  w.value = true;
  w.ts = 1;
  const auto written = run_status_script(*rig.conn, rig.config, w);
  REQUIRE_FALSE(written);
  CHECK(written.error() == "refusing to build a key: business unit must not contain ':'");
  CHECK(rig.conn->ok());  // a refusal, not a broken link
  // Nothing was written, in particular not where business unit "a" keeps "b:u1".
  const KeySchema keys(rig.config.key_prefix, TestType::kCluster);
  std::string user, lead, link;
  keys.user(user, "a", "b:u1");
  keys.lead(lead, "a", "b:ann@x.com");
  keys.link(link, "a", "b:ann@x.com");
  for (const std::string& key : {user, lead, link}) {
    INFO(key);
    CHECK(rig.integer({"EXISTS", key}) == 0);
  }
}

TEMPLATE_TEST_CASE("status writes: concurrent writers never lose the newer change",
                   "[writes][concurrency]", OneServer, Cluster) {
  WriteRig<TestType> rig;
  constexpr int kPerThread = 400;
  // Distinct times: thread A writes the even ones, B the odd ones, each in shuffled order,
  // so arrival order and time order disagree all the time.
  auto value_at = [](EpochMs ts) { return ts % 3 != 0; };
  std::atomic<int> failures{0};
  auto writer = [&](int parity, unsigned seed, std::vector<std::string>& fields) {
    auto connected = RedisRouter::connect(rig.config);
    if (!connected) return ++failures, void();
    RedisRouter::Ptr conn = std::move(connected).value();
    std::vector<EpochMs> times;
    for (int i = 0; i < kPerThread; ++i) times.push_back(1000 + 2 * i + parity);
    std::shuffle(times.begin(), times.end(), std::mt19937(seed));
    for (EpochMs ts : times) {
      for (const std::string& f : fields) {
        StatusWrite w;
        w.external_id = "hot";
        w.email = ts % 5 == 0 ? "hot@x.com" : "";
        w.field = f;
        w.value = value_at(ts);
        w.ts = ts;
        w.source = "event";
        if (!run_status_script(*conn, rig.config, w)) return ++failures, void();
      }
    }
  };
  std::vector<std::string> fields = {"MAIL", "ALL"};
  std::thread a(writer, 0, 1U, std::ref(fields));
  std::thread b(writer, 1, 2U, std::ref(fields));
  a.join();
  b.join();
  REQUIRE(failures == 0);
  const EpochMs newest = 1000 + 2 * (kPerThread - 1) + 1;
  for (const auto& f : fields) {
    INFO(f);
    CHECK(rig.hget("gk:u::hot", f + ":ts") == std::to_string(newest));
    CHECK(rig.hget("gk:u::hot", f) == (value_at(newest) ? "1" : "0"));
  }
}

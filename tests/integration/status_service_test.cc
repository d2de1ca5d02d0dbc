// The StatusService against a real redis-server and a real SUB socket: apply() is the one
// way a status changes (stored by the script, recorded in the history, published on the PUB
// socket and the stream with the stored time), plus the pool of links behind it.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include <prometheus/registry.h>

#include "common/protocol/events.h"
#include "gatekeeper/management/status_service.h"
#include "tests/support/ports.h"
#include "tests/support/redis_reply.h"
#include "tests/support/redis_server.h"
#include "tests/support/zmq_peers.h"

using namespace gk;
using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPing = "test.ping";

struct ServiceRig {
  RedisServer redis;
  Config config = [this] {
    Config c;
    c.redis = redis.config();
    c.redis.events_stream_maxlen = 1000;
    c.egress.events = tcp_endpoint(free_port());
    c.identity.max_emails_per_user = 2;
    return c;
  }();
  zmq::context_t ctx;
  prometheus::Registry registry;
  ManagementMetrics metrics{registry};
  std::unique_ptr<StatusService> service;

  ServiceRig() {
    service = std::make_unique<StatusService>(config, ctx, metrics);
    service->bind();
  }
  ~ServiceRig() { service.reset(); }

  // PUB drops until a subscription has arrived: publishes a change of nothing until `sub`
  // hears one, so the next system events reach it.
  void connect(Subscriber& sub) {
    REQUIRE(eventually([&] {
      ChangeRequest ping;
      ping.event = kPing;
      ping.source = "test";
      REQUIRE(service->apply(ping));
      return sub.receive(50ms).has_value();
    }));
  }

  // The stream's entries as field maps, oldest first, without the pings.
  std::vector<std::map<std::string, std::string>> stream() {
    auto range = redis.command({"XRANGE", "gk:events", "-", "+"});
    REQUIRE(range->type == REDIS_REPLY_ARRAY);
    std::vector<std::map<std::string, std::string>> out;
    for (std::size_t i = 0; i < range->elements; ++i) {
      auto fields = reply_fields(range->element[i]->element[1]);
      if (fields["event"] != kPing) out.push_back(std::move(fields));
    }
    return out;
  }

  double counter(const std::string& name, const std::string& label, const std::string& value) {
    double sum = 0;
    for (const auto& family : registry.Collect()) {
      if (family.name != name) continue;
      for (const auto& m : family.metric) {
        for (const auto& l : m.label) {
          if (l.name == label && l.value == value) sum += m.counter.value;
        }
      }
    }
    return sum;
  }
};

ChangeRequest opt_out(const std::string& id, const std::string& field, bool value, EpochMs ts) {
  ChangeRequest c;
  c.external_id = id;
  c.field = field;
  c.value = value;
  c.ts = ts;
  c.received = ts;
  c.source = "api";
  c.event = value ? "Opt Out" : "Opt In";
  c.channel = field;
  return c;
}

}  // namespace

TEST_CASE("status service: apply stores, records and publishes one change", "[service]") {
  ServiceRig rig;
  Subscriber sub(rig.ctx, rig.config.egress.events);
  rig.connect(sub);
  const EpochMs ts = now_ms() - 60000;
  ChangeRequest c;
  c.bu = "bu";
  c.external_id = "u1";
  c.email = "Ann@X.com";
  c.field = "SMS";
  c.value = true;
  c.ts = ts;
  c.received = ts + 5;
  c.source = "event";
  c.event = "Opt Out";
  c.properties = {{"status", "opt out via xy"}};
  c.channel = "SMS";
  const auto applied = rig.service->apply(c);
  REQUIRE(applied);
  CHECK(applied->write.changed);
  CHECK(applied->write.applied);
  CHECK(applied->ts == ts);
  CHECK_FALSE(applied->timestamp_clamped);
  CHECK_FALSE(applied->link_refused);

  const auto fields = rig.service->read_person("bu", "", "ann@x.com");
  REQUIRE(fields);
  CHECK(fields->at("SMS") == "1");
  CHECK(fields->at("SMS:ts") == std::to_string(ts));
  const auto history = rig.service->history(false, "bu", "u1");
  REQUIRE(history);
  REQUIRE(history->size() == 1);
  CHECK((*history)[0]["source"] == "event");
  CHECK((*history)[0]["event"] == "Opt Out");
  CHECK((*history)[0]["receivedAt"] == format_iso8601(ts + 5));
  CHECK((*history)[0]["properties"]["status"] == "opt out via xy");

  const auto got = sub.receive();
  REQUIRE(got);
  REQUIRE(got->size() == 2);
  CHECK((*got)[0] == "Opt Out");
  const json map = unpack((*got)[1]);
  CHECK(map["id"] == "u1");
  CHECK(map["email"] == "Ann@X.com");
  CHECK(map["businessUnit"] == "bu");
  CHECK(map["channel.type"] == "SMS");
  CHECK(map["timestamp"] == format_iso8601(ts));
  CHECK(map["source"] == "event");
  CHECK(map["changed"] == true);
  CHECK(map["properties"]["status"] == "opt out via xy");
  CHECK_FALSE(map.contains("topic"));
  CHECK_FALSE(map.contains("timestampClamped"));

  const auto stream = rig.stream();
  REQUIRE(stream.size() == 1);
  CHECK(stream[0].at("event") == "Opt Out");
  CHECK(stream[0].at("id") == "u1");
  CHECK(stream[0].at("channel.type") == "SMS");
  CHECK(stream[0].at("source") == "event");
  CHECK(stream[0].at("changed") == "true");
  CHECK(stream[0].at("properties") == R"({"status":"opt out via xy"})");
  CHECK(stream[0].at("timestamp") == format_iso8601(ts));
  CHECK(rig.counter("gk_status_changes_total", "source", "event") == 1);

  SECTION("the same change again is stored but changes nothing, and says so") {
    const auto again = rig.service->apply(c);
    REQUIRE(again);
    CHECK(again->write.applied);
    CHECK_FALSE(again->write.changed);
    const auto second = sub.receive();
    REQUIRE(second);
    CHECK(unpack((*second)[1])["changed"] == false);
  }
}

TEST_CASE("status service: apply publishes a change of no status, and under a second name",
          "[service]") {
  ServiceRig rig;
  Subscriber sub(rig.ctx, rig.config.egress.events);
  rig.connect(sub);
  ChangeRequest c;
  c.email = "pat@x.com";
  c.ts = c.received = now_ms();
  c.source = "esp";
  c.event = "mail.unsubscribe";
  c.channel = "MAIL";
  c.also_published = std::string(kOptOutEvent);
  const auto applied = rig.service->apply(c);
  REQUIRE(applied);
  CHECK_FALSE(applied->write.changed);
  const auto fields = rig.service->read_person("", "", "pat@x.com");
  REQUIRE(fields);
  CHECK(fields->empty());  // nothing stored
  const auto history = rig.service->history(true, "", "pat@x.com");
  REQUIRE(history);
  CHECK(history->empty());

  const auto first = sub.receive();
  const auto second = sub.receive();
  REQUIRE(first);
  REQUIRE(second);
  CHECK((*first)[0] == "mail.unsubscribe");
  CHECK((*second)[0] == "Opt Out");
  json a = unpack((*first)[1]);
  json b = unpack((*second)[1]);
  CHECK(a["event"] == "mail.unsubscribe");
  CHECK(b["event"] == "Opt Out");
  a.erase("event");
  b.erase("event");
  CHECK(a == b);  // the same content under both names
  CHECK(a["email"] == "pat@x.com");
  CHECK(a["source"] == "esp");
  CHECK(rig.stream().size() == 2);
}

TEST_CASE("status service: apply stores and publishes a far-future change at its receipt",
          "[service][limits]") {
  ServiceRig rig;
  const EpochMs now = now_ms();
  ChangeRequest c = opt_out("u1", "MAIL", true, now + 86400000);
  c.received = now;
  const auto applied = rig.service->apply(c);
  REQUIRE(applied);
  CHECK(applied->timestamp_clamped);
  CHECK(applied->ts == now);
  const auto fields = rig.service->read_user("", "u1");
  REQUIRE(fields);
  CHECK(fields->at("MAIL:ts") == std::to_string(now));
  const auto stream = rig.stream();
  REQUIRE(stream.size() == 1);
  CHECK(stream[0].at("timestamp") == format_iso8601(now));
  CHECK(stream[0].at("timestampClamped") == "true");
  CHECK(rig.counter("gk_change_timestamps_clamped_total", "source", "api") == 1);
}

TEST_CASE("status service: apply reports a refused link in the result and the system event",
          "[service][limits]") {
  ServiceRig rig;  // identity.max_emails_per_user = 2
  REQUIRE(rig.service->link("", "u1", "a@x.com", "api"));
  REQUIRE(rig.service->link("", "u1", "b@x.com", "api"));
  ChangeRequest c = opt_out("u1", "MAIL", true, now_ms());
  c.email = "c@x.com";
  c.source = "one_click";
  const auto applied = rig.service->apply(c);
  REQUIRE(applied);
  CHECK(applied->link_refused);
  CHECK(applied->write.link_refused);
  // Not linked, so the email's own lead carries the opt-out too.
  const auto lead = rig.service->read_person("", "", "c@x.com");
  REQUIRE(lead);
  CHECK(lead->at("MAIL") == "1");
  const auto stream = rig.stream();
  REQUIRE(stream.size() == 1);
  CHECK(stream[0].at("linkRefused") == "true");
  CHECK(rig.counter("gk_links_refused_total", "source", "one_click") == 1);
}

TEST_CASE("status service: writes, reads and histories through the pool", "[service]") {
  ServiceRig rig;
  ChangeRequest c = opt_out("u1", "SMS", true, 1000);
  c.bu = "bu";
  auto r = rig.service->apply(c);
  REQUIRE(r);
  CHECK(r->write.changed);
  auto fields = rig.service->read_user("bu", "u1");
  REQUIRE(fields);
  CHECK(fields->at("SMS") == "1");
  CHECK(fields->at("SMS:ts") == "1000");
  auto history = rig.service->history(false, "bu", "u1");
  REQUIRE(history);
  REQUIRE(history->size() == 1);
  CHECK((*history)[0]["source"] == "api");
  auto none = rig.service->history(true, "bu", "Nobody@x");
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("status service: many threads share it safely", "[service][concurrency]") {
  ServiceRig rig;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        const auto c = opt_out("u" + std::to_string(t), "MAIL", i % 2 == 0, 1000 + i);
        if (!rig.service->apply(c)) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  for (int t = 0; t < 4; ++t) {
    auto fields = rig.service->read_user("", "u" + std::to_string(t));
    REQUIRE(fields);
    CHECK(fields->at("MAIL") == "0");  // i = 99 is the newest
  }
  CHECK(rig.redis.command({"XLEN", "gk:events"})->integer == 400);
}

TEST_CASE("status service: a store outage fails changes, publishes nothing, and recovers",
          "[service]") {
  ServiceRig rig;
  auto c = opt_out("u1", "MAIL", true, 1000);
  REQUIRE(rig.service->apply(c));
  const double published = rig.counter("gk_system_events_total", "sink", "pub");
  CHECK(published == 1);
  rig.redis.stop();
  const auto failed = rig.service->apply(c);
  CHECK_FALSE(failed);
  CHECK_FALSE(failed.error().empty());
  // Nothing was stored, so nothing is reported.
  CHECK(rig.counter("gk_system_events_total", "sink", "pub") == published);
  CHECK_FALSE(rig.service->read_user("", "u1"));
  rig.redis.start();
  c.ts = 2000;
  REQUIRE(rig.service->apply(c));
  CHECK(rig.counter("gk_status_store_errors_total", "operation", "write") == 1);
}

TEST_CASE("status service: an idle pooled link that died is replaced, not reported", "[service]") {
  ServiceRig rig;
  REQUIRE(rig.service->read_user("", "u1"));  // leaves one link in the pool
  rig.redis.stop();
  rig.redis.start();
  auto r = rig.service->apply(opt_out("u1", "MAIL", true, 1000));
  INFO(r.error());
  REQUIRE(r);
  CHECK(r->write.changed);
  for (const auto& family : rig.registry.Collect()) {
    CHECK(family.name != "gk_status_store_errors_total");
  }
}

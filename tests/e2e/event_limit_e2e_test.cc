// The per-body event limit (http.max_events_per_body, 50 by default) at its boundary, on both
// transports of PROTOCOL.md section 5: 50 events are taken, 51 refuse the whole body.
#include <httplib.h>
#include <catch2/catch.hpp>

#include <string>

#include "tests/support/gatekeeper_process.h"
#include "tests/support/ports.h"
#include "tests/support/redis_server.h"
#include "tests/support/zmq_peers.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// `count` events for `id`: filler events first, an MAIL opt-out last, so the person's
// status shows whether the body (and its last event) was taken.
json body(const std::string& id, int count) {
  json events = json::array();
  for (int i = 0; i + 1 < count; ++i) events.push_back({{"event", "Page Viewed"}});
  events.push_back({{"event", "Opt Out"}, {"channel.type", "MAIL"}});
  return {{"id", id}, {"events", events}};
}

struct LimitRig {
  RedisServer redis;
  zmq::context_t ctx;
  std::unique_ptr<GatekeeperProcess> gk;

  LimitRig() {
    GatekeeperOptions o;
    o.redis_port = redis.port();
    // Big enough for 51 events: the count, not the size, must be what refuses the body.
    o.http_extra = "max_body_bytes = 65536";
    gk = std::make_unique<GatekeeperProcess>(o);
    REQUIRE(gk->wait_ready());
  }

  std::string metrics() const { return http_get(gk->options().http_port, "/metrics").body; }
  bool has_metric(const std::string& line) const {
    return metrics().find("\n" + line + "\n") != std::string::npos;
  }
};

}  // namespace

TEST_CASE("e2e event limit: the events socket takes 50 events and drops a body of 51",
          "[e2e][events][limit]") {
  LimitRig rig;
  Sender events(rig.ctx, rig.gk->events());
  // The consumer handles bodies in order: once the second body's opt-out is stored, the
  // first body has been judged.
  events.send(Frames{body("u51", 51).dump()});
  events.send(Frames{pack(body("u50", 50))});
  REQUIRE(eventually([&] { return rig.redis.hget("gk:u::u50", "MAIL") == "1"; }, 10s));
  CHECK(rig.redis.command({"EXISTS", "gk:u::u51"})->integer == 0);
  CHECK(rig.has_metric(R"(gk_event_bodies_total{result="invalid",transport="socket"} 1)"));
  CHECK(rig.has_metric(R"(gk_event_bodies_total{result="ok",transport="socket"} 1)"));
  CHECK(rig.gk->log().find("at most 50 events per body, got 51") != std::string::npos);
}

TEST_CASE("e2e event limit: POST /events answers 202 for 50 events and 400 for 51",
          "[e2e][events][limit]") {
  LimitRig rig;
  httplib::Client client("127.0.0.1", rig.gk->options().http_port);
  client.set_read_timeout(10, 0);
  const httplib::Headers auth = {{"X-XNG-AuthToken", "test-token"}};

  auto over = client.Post("/events", auth, body("h51", 51).dump(), "application/json");
  REQUIRE(over);
  CHECK(over->status == 400);
  const json refused = json::parse(over->body, nullptr, false);
  CHECK(refused["field"] == "events");
  CHECK(refused["type"] == "INVALID_VALUE");
  CHECK(rig.redis.command({"EXISTS", "gk:u::h51"})->integer == 0);

  auto at = client.Post("/events", auth, body("h50", 50).dump(), "application/json");
  REQUIRE(at);
  CHECK(at->status == 202);
  const json taken = json::parse(at->body, nullptr, false);
  REQUIRE(taken["results"].is_array());
  CHECK(taken["results"].size() == 50);
  CHECK(rig.redis.hget("gk:u::h50", "MAIL") == "1");
  CHECK(rig.has_metric(R"(gk_event_bodies_total{result="invalid",transport="http"} 1)"));
  CHECK(rig.has_metric(R"(gk_event_bodies_total{result="ok",transport="http"} 1)"));
}

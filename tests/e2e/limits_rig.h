// The setup of the limits tests (timestamps_e2e_test.cc, link_fanout_e2e_test.cc): the
// built binary on a real redis-server, the HTTP API, the events socket, the system-event
// PUB socket and the decisions outlet, as the management tests use them.
#pragma once

#include <httplib.h>
#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>

#include "tests/support/gatekeeper_process.h"
#include "tests/support/ports.h"
#include "tests/support/redis_server.h"
#include "tests/support/zmq_peers.h"

namespace gk::test::limits {

using nlohmann::json;
using namespace std::chrono_literals;

inline constexpr const char* kToken = "test-token";
inline constexpr const char* kProbe = "gk.test.probe";

struct Answer {
  int status = -1;
  json body;
};

struct LimitsRig {
  RedisServer redis;
  zmq::context_t ctx;
  GatekeeperOptions opts = [this] {
    GatekeeperOptions o;
    o.redis_port = redis.port();
    o.log_level = "info";
    return o;
  }();
  std::unique_ptr<GatekeeperProcess> gk;
  std::unique_ptr<Sender> messages, events;
  std::unique_ptr<Sink> mail, sms, decisions;
  std::unique_ptr<Subscriber> sub;
  int message_seq = 0;

  void start() {
    gk = std::make_unique<GatekeeperProcess>(opts);
    REQUIRE(gk->wait_ready());
    messages = std::make_unique<Sender>(ctx, gk->messages());
    events = std::make_unique<Sender>(ctx, gk->events());
    mail = std::make_unique<Sink>(ctx, gk->mail());
    sms = std::make_unique<Sink>(ctx, gk->sms());
    decisions = std::make_unique<Sink>(ctx, gk->decisions());
    sub = std::make_unique<Subscriber>(ctx, gk->system_events());
    // PUB drops everything until the subscription has reached it: probe until one arrives.
    REQUIRE(eventually(
        [&] {
          events->send(Frames{R"({"id": "probe", "events": [{"event": ")" + std::string(kProbe) +
                              R"("}]})"});
          auto f = sub->receive(50ms);
          return f && (*f)[0] == kProbe;
        },
        10s));
    while (auto f = sub->receive(200ms)) {
    }
  }

  ~LimitsRig() {
    messages.reset();
    events.reset();
    mail.reset();
    sms.reset();
    decisions.reset();
    sub.reset();
  }

  Answer call(const std::string& method, const std::string& path, const std::string& body = "") {
    httplib::Client client("127.0.0.1", opts.http_port);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(10, 0);
    const httplib::Headers headers = {{"X-XNG-AuthToken", kToken}};
    auto res = method == "PUT"   ? client.Put(path.c_str(), headers, body, "application/json")
               : method == "GET" ? client.Get(path.c_str(), headers)
                                 : client.Post(path.c_str(), headers, body, "application/json");
    Answer a;
    if (!res) return a;
    a.status = res->status;
    a.body = json::parse(res->body, nullptr, false);
    return a;
  }

  // The next system event that is not a probe: {topic, map}.
  std::optional<std::pair<std::string, json>> next_event(std::chrono::milliseconds timeout = 5s) {
    while (auto f = sub->receive(timeout)) {
      if ((*f)[0] == kProbe) continue;
      REQUIRE(f->size() == 2);
      return std::make_pair((*f)[0], unpack((*f)[1]));
    }
    return std::nullopt;
  }

  // Sends one message and says where it went: "MAIL", "SMS" or "verdict/reason".
  std::string outcome(const std::string& channel, const json& user) {
    const std::string id = "m" + std::to_string(++message_seq);
    messages->send(json{{"id", id}, {"channel", channel}, {"user", user}, {"to", "addr"}},
                   "payload");
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      zmq::pollitem_t items[] = {{mail->socket().handle(), 0, ZMQ_POLLIN, 0},
                                 {sms->socket().handle(), 0, ZMQ_POLLIN, 0},
                                 {decisions->socket().handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 3, 200ms);
      if (items[0].revents & ZMQ_POLLIN) {
        if (unpack((*mail->receive(0ms))[0])["id"] == id) return "MAIL";
      } else if (items[1].revents & ZMQ_POLLIN) {
        if (unpack((*sms->receive(0ms))[0])["id"] == id) return "SMS";
      } else if (items[2].revents & ZMQ_POLLIN) {
        const json d = unpack((*decisions->receive(0ms))[0]);
        if (d["id"] == id) {
          return d["verdict"].get<std::string>() + "/" + d["reason"].get<std::string>();
        }
      }
    }
    return "nothing";
  }

  // The cache learns of a write through Redis invalidation, a moment after it: ask again
  // until the expected outcome shows or the deadline passes.
  bool eventually_outcome(const std::string& expected, const std::string& channel,
                          const json& user) {
    std::string last;
    const bool ok =
        eventually([&] { return (last = outcome(channel, user)) == expected; }, 5s, 1ms);
    if (!ok) UNSCOPED_INFO("last outcome: " << last);
    return ok;
  }

  std::string hget(const std::string& key, const std::string& field) {
    auto r = redis.command({"HGET", key, field});
    return r && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : std::string();
  }

  std::string metrics() { return http_get(opts.http_port, "/metrics").body; }
};

}  // namespace gk::test::limits

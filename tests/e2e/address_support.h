#pragma once
// A gatekeeper with its peers and an HTTP client, for the address, erasure and bulk tests.
#include <httplib.h>

#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "tests/support/gatekeeper_process.h"
#include "tests/support/ports.h"
#include "tests/support/redis_server.h"
#include "tests/support/zmq_peers.h"

#include <hiredis/hiredis.h>

namespace gk::test {

inline constexpr const char* kAddrToken = "test-token";
inline constexpr const char* kSalt = "an-erasure-salt-of-more-than-32-characters";

struct AddrAnswer {
  int status = -1;
  nlohmann::json body;
  std::string raw;
};

// Sends messages, reads where they went, calls the API; the store is a GatekeeperOptions'
// business (a RedisServer, or a cluster through redis_extra).
class AddrRig {
 public:
  explicit AddrRig(GatekeeperOptions o) : opts(std::move(o)) {}
  ~AddrRig() {
    messages.reset();
    mail.reset();
    sms.reset();
    decisions.reset();
  }

  void start() {
    gk = std::make_unique<GatekeeperProcess>(opts);
    if (!gk->wait_ready()) throw std::runtime_error("gatekeeper not ready: " + gk->log());
    messages = std::make_unique<Sender>(ctx, gk->messages());
    mail = std::make_unique<Sink>(ctx, gk->mail());
    sms = std::make_unique<Sink>(ctx, gk->sms());
    decisions = std::make_unique<Sink>(ctx, gk->decisions());
  }

  AddrAnswer call(const std::string& method, const std::string& path,
                  const std::string& body = "") {
    httplib::Client client("127.0.0.1", opts.http_port);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(30, 0);
    httplib::Headers headers = {{"X-XNG-AuthToken", kAddrToken}};
    httplib::Result res =
        method == "GET"      ? client.Get(path.c_str(), headers)
        : method == "PUT"    ? client.Put(path.c_str(), headers, body, "application/json")
        : method == "DELETE" ? client.Delete(path.c_str(), headers)
                             : client.Post(path.c_str(), headers, body, "application/json");
    AddrAnswer a;
    if (!res) return a;
    a.status = res->status;
    a.raw = res->body;
    a.body = nlohmann::json::parse(res->body, nullptr, false);
    return a;
  }

  // One message; "MAIL", "SMS" or "<verdict>/<reason>".
  std::string outcome(const std::string& channel, const nlohmann::json& user, const std::string& to,
                      const nlohmann::json& extra = nlohmann::json::object()) {
    const std::string id = "m" + std::to_string(++seq_);
    nlohmann::json h = {{"id", id}, {"channel", channel}, {"user", user}, {"to", to}};
    h.update(extra);
    messages->send(h, "payload");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      zmq::pollitem_t items[] = {{mail->socket().handle(), 0, ZMQ_POLLIN, 0},
                                 {sms->socket().handle(), 0, ZMQ_POLLIN, 0},
                                 {decisions->socket().handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 3, std::chrono::milliseconds(200));
      if (items[0].revents & ZMQ_POLLIN) {
        if (unpack((*mail->receive(std::chrono::milliseconds(0)))[0])["id"] == id) return "MAIL";
      } else if (items[1].revents & ZMQ_POLLIN) {
        if (unpack((*sms->receive(std::chrono::milliseconds(0)))[0])["id"] == id) return "SMS";
      } else if (items[2].revents & ZMQ_POLLIN) {
        const nlohmann::json d = unpack((*decisions->receive(std::chrono::milliseconds(0)))[0]);
        if (d["id"] == id) {
          return d["verdict"].get<std::string>() + "/" + d["reason"].get<std::string>();
        }
      }
    }
    return "nothing";
  }

  // The book learns of a write a moment after it: ask until the outcome shows (2 s, the
  // contract's bound for events, plus slack for a loaded machine).
  std::string eventually_outcome(const std::string& expected, const std::string& channel,
                                 const nlohmann::json& user, const std::string& to,
                                 const nlohmann::json& extra = nlohmann::json::object()) {
    std::string last;
    eventually([&] { return (last = outcome(channel, user, to, extra)) == expected; },
               std::chrono::seconds(5), std::chrono::milliseconds(1));
    return last;
  }

  AddrAnswer event(const nlohmann::json& body) { return call("POST", "/events", body.dump()); }

  // A person with an SMS opt-out (by the API) and an e-mail linked to them by a MAIL Opt Out
  // event: records, a link and history for an erasure to remove.
  void seed_person(const std::string& id, const std::string& email) {
    REQUIRE(call("PUT", "/users/" + id + "/optout-status?channelType=SMS", R"({"optOut": true})")
                .status == 200);
    REQUIRE(event({{"id", id},
                   {"email", email},
                   {"events",
                    nlohmann::json::array({{{"event", "Opt Out"}, {"channel.type", "MAIL"}}})}})
                .status == 202);
  }

  // The system events the gatekeeper published, read from the `gk:events` stream through
  // `command` (a one-server or a routed cluster command).
  template <class Command>
  static std::vector<std::map<std::string, std::string>> stream(Command&& command) {
    std::vector<std::map<std::string, std::string>> out;
    auto reply = command(std::vector<std::string>{"XRANGE", "gk:events", "-", "+"});
    if (!reply || reply->type != REDIS_REPLY_ARRAY) return out;
    for (std::size_t i = 0; i < reply->elements; ++i) {
      std::map<std::string, std::string> m;
      const redisReply* f = reply->element[i]->element[1];
      for (std::size_t j = 0; j + 1 < f->elements; j += 2) {
        m[std::string(f->element[j]->str, f->element[j]->len)] =
            std::string(f->element[j + 1]->str, f->element[j + 1]->len);
      }
      out.push_back(std::move(m));
    }
    return out;
  }

  GatekeeperOptions opts;
  zmq::context_t ctx;
  std::unique_ptr<GatekeeperProcess> gk;
  std::unique_ptr<Sender> messages;
  std::unique_ptr<Sink> mail, sms, decisions;

 private:
  int seq_ = 0;
};

inline GatekeeperOptions addr_options(int redis_port, const std::string& extra = "") {
  GatekeeperOptions o;
  o.redis_port = redis_port;
  o.extra_toml = std::string("[erasure]\nsalt = \"") + kSalt + "\"\n" + extra;
  return o;
}

// A field of a hash; "" when there is none.
inline std::string hget(RedisServer& redis, const std::string& key, const std::string& field) {
  auto reply = redis.command({"HGET", key, field});
  return reply && reply->type == REDIS_REPLY_STRING ? std::string(reply->str, reply->len) : "";
}

// A reply's text ("" for what has none), for reading the whole store below.
inline std::string reply_text(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS
             ? std::string(r->str, r->len)
             : std::string();
}

inline void collect_replies(const redisReply* r, std::vector<std::string>& out) {
  if (r->type == REDIS_REPLY_ARRAY) {
    for (std::size_t i = 0; i < r->elements; ++i) collect_replies(r->element[i], out);
  } else {
    out.push_back(reply_text(r));
  }
}

// Every key name and every value of every key (hashes, strings, sets, lists, streams) of
// one server, read through `command` (a std::vector<std::string> in, a reply out): what must
// not name an erased person.
template <class Command>
void collect_store(Command&& command, std::vector<std::string>& out) {
  auto keys = command(std::vector<std::string>{"KEYS", "*"});
  for (std::size_t i = 0; i < keys->elements; ++i) {
    const std::string key = reply_text(keys->element[i]);
    out.push_back(key);
    const std::string type = reply_text(command(std::vector<std::string>{"TYPE", key}).get());
    std::vector<std::string> read;
    if (type == "hash") read = {"HGETALL", key};
    if (type == "string") read = {"GET", key};
    if (type == "set") read = {"SMEMBERS", key};
    if (type == "list") read = {"LRANGE", key, "0", "-1"};
    if (type == "stream") read = {"XRANGE", key, "-", "+"};
    if (!read.empty()) collect_replies(command(read).get(), out);
  }
}

inline std::vector<std::string> everything(RedisServer& redis) {
  std::vector<std::string> out;
  collect_store([&](const std::vector<std::string>& args) { return redis.command(args); }, out);
  return out;
}

// Whether any of `all` contains `needle` (which is lower-case), in any case.
inline bool mentions(const std::vector<std::string>& all, const std::string& needle) {
  for (const std::string& s : all) {
    std::string lower = s;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s.find(needle) != std::string::npos || lower.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace gk::test

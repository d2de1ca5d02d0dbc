#include "tests/support/api_rig.h"

#include <catch2/catch.hpp>

#include "tests/support/ports.h"
#include "tests/support/redis_reply.h"

namespace gk::test {

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// System events of probes start with this; next_event, probe_socket and stream skip them.
constexpr std::string_view kProbePrefix = "gk.test.probe-";

bool is_probe(std::string_view name) {
  return name.substr(0, kProbePrefix.size()) == kProbePrefix;
}

}  // namespace

void ApiRig::close_api_peers() {
  events.reset();
  sub.reset();
}

void ApiRig::start() {
  Rig::start();
  events = std::make_unique<Sender>(ctx, gk->events());
  sub = std::make_unique<Subscriber>(ctx, gk->system_events());
  REQUIRE(eventually([&] { return probe_socket(50ms); }, 10s));
  seen.clear();
}

ApiAnswer ApiRig::call(const std::string& method, const std::string& path, const std::string& body,
                       const std::optional<std::string>& token, httplib::Headers headers) {
  httplib::Client client("127.0.0.1", opts.http_port);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(10, 0);
  if (token) headers.emplace("X-XNG-AuthToken", *token);
  auto res = method == "GET"   ? client.Get(path.c_str(), headers)
             : method == "PUT" ? client.Put(path.c_str(), headers, body, "application/json")
                               : client.Post(path.c_str(), headers, body, "application/json");
  ApiAnswer a;
  if (!res) return a;
  a.status = res->status;
  a.raw = res->body;
  a.body = json::parse(res->body, nullptr, false);
  return a;
}

bool ApiRig::probe_socket(std::chrono::milliseconds timeout) {
  const std::string name = std::string(kProbePrefix) + std::to_string(++seq_);
  events->send(Frames{R"({"id": "probe", "events": [{"event": ")" + name + R"("}]})"});
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto f = sub->receive(timeout);
    if (!f) return false;
    if ((*f)[0] == name) return true;
    if (!is_probe((*f)[0]) && f->size() == 2) seen.push_back(unpack((*f)[1]));
  }
  return false;
}

std::optional<SystemEventSeen> ApiRig::next_event(std::chrono::milliseconds timeout) {
  while (auto f = sub->receive(timeout)) {
    if (is_probe((*f)[0])) continue;
    REQUIRE(f->size() == 2);
    return SystemEventSeen{(*f)[0], unpack((*f)[1])};
  }
  return std::nullopt;
}

std::vector<std::map<std::string, std::string>> ApiRig::stream() {
  auto r = redis.command({"XRANGE", "gk:events", "-", "+"});
  std::vector<std::map<std::string, std::string>> out;
  REQUIRE(r->type == REDIS_REPLY_ARRAY);
  for (std::size_t i = 0; i < r->elements; ++i) {
    const redisReply* entry = r->element[i];
    REQUIRE((entry->type == REDIS_REPLY_ARRAY && entry->elements == 2));
    auto m = reply_fields(entry->element[1]);
    if (!is_probe(m["event"])) out.push_back(std::move(m));
  }
  return out;
}

json ApiRig::decide(const std::string& frame0, const std::string& id) {
  sender->send(Frames{frame0, "payload"});
  struct Source {
    Sink* sink;
    const char* channel;  // nullptr: the decisions outlet
  };
  std::vector<Source> sources;
  if (mail) sources.push_back({mail.get(), "MAIL"});
  sources.push_back({sms.get(), "SMS"});
  sources.push_back({push.get(), "PUSH_NOTIFICATION"});
  sources.push_back({decisions.get(), nullptr});
  std::vector<zmq::pollitem_t> items(sources.size());
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    for (std::size_t i = 0; i < sources.size(); ++i) {
      items[i] = {sources[i].sink->socket().handle(), 0, ZMQ_POLLIN, 0};
    }
    zmq::poll(items.data(), items.size(), 200ms);
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      json h = unpack((*sources[i].sink->receive(0ms))[0]);
      if (h["id"] != id) continue;
      if (sources[i].channel != nullptr) return {{"forwarded", sources[i].channel}};
      return h;
    }
  }
  return {{"nothing", true}};
}

std::string ApiRig::outcome(const std::string& channel, const json& user, const json& extra) {
  const std::string id = "m" + std::to_string(++seq_);
  json h = {{"id", id}, {"channel", channel}, {"user", user}, {"to", "addr"}};
  if (extra.is_object()) h.update(extra);
  const json d = decide(pack(h), id);
  if (d.contains("forwarded")) return d["forwarded"].get<std::string>();
  if (d.contains("verdict")) {
    return d["verdict"].get<std::string>() + "/" + d["reason"].get<std::string>();
  }
  return "nothing";
}

bool ApiRig::eventually_outcome(const std::string& expected, const std::string& channel,
                                const json& user, const json& extra) {
  std::string last;
  const bool ok =
      eventually([&] { return (last = outcome(channel, user, extra)) == expected; }, 5s, 1ms);
  if (!ok) UNSCOPED_INFO("last outcome: " << last);
  return ok;
}

std::string ApiRig::hget(const std::string& key, const std::string& field) {
  return redis.hget(key, field).value_or("");
}

std::string ApiRig::metrics() {
  return http_get(opts.http_port, "/metrics").body;
}

}  // namespace gk::test

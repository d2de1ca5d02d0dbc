#include "tests/support/rig.h"

#include <stdexcept>

namespace gk::test {

nlohmann::json header(const std::string& id, const std::string& channel, const nlohmann::json& user,
                      const nlohmann::json& extra) {
  nlohmann::json h = {{"id", id}, {"channel", channel}, {"user", user}};
  for (const auto& [k, v] : extra.items()) h[k] = v;
  return h;
}

// The base is built before the context it refers to, and only uses it in start().
Rig::Rig(bool persistent_redis) : Sidecar(ctx), redis(persistent_redis) {
  opts.redis_port = redis.port();
}

void Sidecar::close_peers() {
  sender.reset();
  mail.reset();
  sms.reset();
  push.reset();
  decisions.reset();
}

void Sidecar::connect_mail_adapter() {
  mail = std::make_unique<Sink>(ctx_, gk->mail());
}

void Sidecar::start(bool connect_mail) {
  gk = std::make_unique<GatekeeperProcess>(opts);
  if (!gk->wait_ready()) throw std::runtime_error("gatekeeper not ready:\n" + gk->log());
  sender = std::make_unique<Sender>(ctx_, gk->messages());
  if (connect_mail) connect_mail_adapter();
  sms = std::make_unique<Sink>(ctx_, gk->sms());
  push = std::make_unique<Sink>(ctx_, gk->push());
  decisions = std::make_unique<Sink>(ctx_, gk->decisions());
}

double Sidecar::metric(const std::string& name) const {
  const auto page = http_get(opts.http_port, "/metrics").body;
  const auto at = page.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(page.substr(at + name.size() + 2));
}

Outcomes Sidecar::collect(std::size_t count, std::chrono::milliseconds quiet) {
  Outcomes out;
  struct Source {
    Sink* sink;
    const char* name;
  };
  std::vector<Source> sources;
  if (mail) sources.push_back({mail.get(), "MAIL"});
  sources.push_back({sms.get(), "SMS"});
  sources.push_back({push.get(), "PUSH_NOTIFICATION"});
  sources.push_back({decisions.get(), nullptr});
  std::vector<zmq::pollitem_t> items(sources.size());
  while (out.size() < count) {
    for (std::size_t i = 0; i < sources.size(); ++i) {
      items[i] = {sources[i].sink->socket().handle(), 0, ZMQ_POLLIN, 0};
    }
    zmq::poll(items.data(), items.size(), quiet);
    bool any = false;
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      any = true;
      auto frames = sources[i].sink->receive(std::chrono::milliseconds(0));
      const nlohmann::json h = unpack((*frames)[0]);
      const std::string id = h.value("id", "");
      std::string where;
      if (sources[i].name != nullptr) {
        where = sources[i].name;
      } else {
        where = h.value("verdict", "") + "/" + h.value("reason", "");
      }
      if (!out.emplace(id, where).second) ++duplicates_;
    }
    if (!any) break;
  }
  return out;
}

}  // namespace gk::test

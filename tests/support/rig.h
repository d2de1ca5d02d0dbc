#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "tests/support/gatekeeper_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/zmq_peers.h"

namespace gk::test {

// A candidate message header from JSON-shaped parts.
nlohmann::json header(const std::string& id, const std::string& channel, const nlohmann::json& user,
                      const nlohmann::json& extra = nlohmann::json::object());

// Where one message ended: "MAIL" / "SMS" / "PUSH_NOTIFICATION" for a channel, or
// "<verdict>/<reason>" from the decisions outlet.
using Outcomes = std::map<std::string, std::string>;

// One gatekeeper binary with its sender, its MAIL, SMS and PUSH adapters and a decisions
// reader, all on loopback; the store is the owner's business (set opts first).
class Sidecar {
 public:
  explicit Sidecar(zmq::context_t& ctx) : ctx_(ctx) {}
  ~Sidecar() { close_peers(); }

  // Starts the gatekeeper with `opts` (edit them first) and waits until it is ready. Without
  // `connect_mail`, the MAIL adapter stays away until connect_mail_adapter().
  void start(bool connect_mail = true);
  void connect_mail_adapter();
  // Peers close before their context, which would otherwise wait for them.
  void close_peers();

  // Reads adapters and decisions until `count` outcomes arrived or nothing came for
  // `quiet`; every message id must appear once (a second arrival is recorded as a duplicate).
  Outcomes collect(std::size_t count, std::chrono::milliseconds quiet = std::chrono::seconds(5));
  std::size_t duplicates() const noexcept { return duplicates_; }

  // One unlabelled sample from /metrics (-1 when the family is absent or nothing answered).
  double metric(const std::string& name) const;

  GatekeeperOptions opts;
  std::unique_ptr<GatekeeperProcess> gk;
  std::unique_ptr<Sender> sender;
  std::unique_ptr<Sink> mail, sms, push, decisions;

 private:
  zmq::context_t& ctx_;
  std::size_t duplicates_ = 0;
};

// One end-to-end setup: a redis-server and a Sidecar on it.
class Rig : public Sidecar {
 public:
  explicit Rig(bool persistent_redis = false);
  ~Rig() { close_peers(); }

  RedisServer redis;
  zmq::context_t ctx;
};

}  // namespace gk::test

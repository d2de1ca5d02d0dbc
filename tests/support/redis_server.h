#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/redis/redis_connection.h"
#include "tests/support/process.h"

namespace gk::test {

// A private redis-server on a free loopback port, no persistence, stopped with the object.
// stop() and start() on the same port simulate an outage.
class RedisServer {
 public:
  // persistent: an append-only file synced on every write, so a SIGKILL and restart keeps the
  // data, as a production Redis with AOF would.
  explicit RedisServer(bool persistent = false);
  ~RedisServer();

  int port() const noexcept { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  RedisConfig config() const;

  void start();
  void stop();  // SIGKILL: an outage, not a clean shutdown
  bool running() const noexcept { return process_ != nullptr; }

  // A command on a connection of the test's own, like any other client of the platform.
  RedisReplyPtr command(const std::vector<std::string>& args);
  // HSET key field value.
  void hset(const std::string& key, const std::string& field, const std::string& value);
  // The reply to a GET-like command as text; nullopt for nil (see reply_text).
  std::optional<std::string> text(const std::vector<std::string>& args);
  // HGET key field; nullopt when the key or the field is absent.
  std::optional<std::string> hget(const std::string& key, const std::string& field);

 private:
  int port_;
  bool persistent_;
  TempDir dir_;
  std::unique_ptr<Process> process_;
  RedisConnection::Ptr client_;
};

}  // namespace gk::test

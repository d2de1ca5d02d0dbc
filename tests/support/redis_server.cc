#include "tests/support/redis_server.h"

#include <signal.h>

#include <stdexcept>

#include "tests/support/ports.h"
#include "tests/support/redis_reply.h"

namespace gk::test {

RedisServer::RedisServer(bool persistent) : port_(free_port()), persistent_(persistent) {
  start();
}

RedisServer::~RedisServer() {
  stop();
}

RedisConfig RedisServer::config() const {
  RedisConfig c;
  c.url = url();
  c.host = "127.0.0.1";
  c.port = port_;
  return c;
}

void RedisServer::start() {
  if (process_) return;
  std::vector<std::string> argv{
      "redis-server", "--port",   std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
      "--dir",        dir_.path()};
  if (persistent_) {
    argv.insert(argv.end(), {"--appendonly", "yes", "--appendfsync", "always"});
  } else {
    argv.insert(argv.end(), {"--appendonly", "no"});
  }
  process_ = std::make_unique<Process>(argv, dir_.file("redis.log"));
  const bool up = eventually(
      [&] {
        auto conn = RedisConnection::connect(config());
        if (!conn) return false;
        auto r = (*conn)->command({"PING"});
        return r && r->type == REDIS_REPLY_STATUS;
      },
      std::chrono::milliseconds(10000));
  if (!up) throw std::runtime_error("redis-server did not start: " + process_->log());
}

void RedisServer::stop() {
  client_.reset();
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait(std::chrono::milliseconds(5000));
  process_.reset();
}

RedisReplyPtr RedisServer::command(const std::vector<std::string>& args) {
  if (!client_ || !client_->ok()) {
    auto conn = RedisConnection::connect(config());
    if (!conn) throw std::runtime_error("test Redis client: " + conn.error());
    client_ = std::move(conn).value();
  }
  std::vector<std::string_view> views(args.begin(), args.end());
  auto reply = client_->command(views);
  if (!reply) throw std::runtime_error("test Redis command failed: " + client_->error());
  return reply;
}

void RedisServer::hset(const std::string& key, const std::string& field, const std::string& value) {
  command({"HSET", key, field, value});
}

std::optional<std::string> RedisServer::text(const std::vector<std::string>& args) {
  return reply_text(command(args).get());
}

std::optional<std::string> RedisServer::hget(const std::string& key, const std::string& field) {
  return text({"HGET", key, field});
}

}  // namespace gk::test

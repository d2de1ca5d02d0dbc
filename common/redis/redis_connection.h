#pragma once

#include <hiredis/hiredis.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/util/result.h"

namespace gk {

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const noexcept { freeReplyObject(reply); }
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

// One synchronous hiredis connection (RESP2), authenticated and on the configured database.
// Commands return nullptr on an I/O or protocol error; the connection is then broken for good
// (`ok()` is false) and the owner reconnects.
class RedisConnection {
 public:
  using Ptr = std::unique_ptr<RedisConnection>;

  // Connects, authenticates and selects the database; on success the pointer is never null.
  static Result<Ptr> connect(const RedisConfig& config);
  // The same to another node (a cluster member) with the configured credentials; no SELECT.
  static Result<Ptr> connect(const RedisConfig& config, const std::string& host, int port);
  // Takes ownership of a context; prefer connect().
  explicit RedisConnection(redisContext* ctx) : ctx_(ctx) {}

  bool ok() const noexcept { return ctx_ && ctx_->err == 0; }
  std::string error() const;
  int fd() const noexcept { return ctx_ ? ctx_->fd : -1; }

  RedisReplyPtr command(std::initializer_list<std::string_view> args);
  RedisReplyPtr command(const std::vector<std::string_view>& args);

  // Pipelining: queue commands, then read one reply per command in order.
  void append(std::initializer_list<std::string_view> args);
  void append(const std::vector<std::string_view>& args);
  RedisReplyPtr get_reply();
  // Writes what append() queued without reading an answer (for a subscriber, whose answers
  // arrive among its messages). False on an I/O error.
  bool flush();

  // For a subscriber whose fd poll reported readable: reads what has arrived without
  // blocking for more, then hands out complete replies one by one (nullptr when none left).
  bool read_available();
  RedisReplyPtr next_buffered_reply();

 private:
  struct ContextDeleter {
    void operator()(redisContext* c) const noexcept { redisFree(c); }
  };
  void append_argv(const std::string_view* args, std::size_t count);
  RedisReplyPtr command_argv(const std::string_view* args, std::size_t count);

  std::unique_ptr<redisContext, ContextDeleter> ctx_;
};

// Short description of an error reply or a wrong reply type, for logs.
std::string describe_reply(const redisReply* reply);

}  // namespace gk

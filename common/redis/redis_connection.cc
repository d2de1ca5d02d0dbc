#include "common/redis/redis_connection.h"

#include <sys/time.h>

#include <array>

namespace gk {

namespace {

timeval to_timeval(int ms) {
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

// Args live on the stack for the common short commands; longer ones use the heap.
template <typename F>
auto with_argv(const std::string_view* args, std::size_t count, F&& f) {
  constexpr std::size_t kInline = 16;
  std::array<const char*, kInline> argv_inline{};
  std::array<std::size_t, kInline> len_inline{};
  std::vector<const char*> argv_heap;
  std::vector<std::size_t> len_heap;
  const char** argv = argv_inline.data();
  std::size_t* lens = len_inline.data();
  if (count > kInline) {
    argv_heap.resize(count);
    len_heap.resize(count);
    argv = argv_heap.data();
    lens = len_heap.data();
  }
  for (std::size_t i = 0; i < count; ++i) {
    argv[i] = args[i].data();
    lens[i] = args[i].size();
  }
  return f(static_cast<int>(count), argv, lens);
}

}  // namespace

Result<RedisConnection::Ptr> RedisConnection::connect(const RedisConfig& config) {
  auto conn = connect(config, config.host, config.port);
  if (conn && config.db != 0) {
    const std::string db = std::to_string(config.db);
    RedisReplyPtr r = (*conn)->command({"SELECT", db});
    if (!r || r->type == REDIS_REPLY_ERROR) {
      return fail("SELECT " + db + " failed: " + (r ? describe_reply(r.get()) : (*conn)->error()));
    }
  }
  return conn;
}

Result<RedisConnection::Ptr> RedisConnection::connect(const RedisConfig& config,
                                                      const std::string& host, int port) {
  const timeval connect_timeout = to_timeval(config.connect_timeout_ms);
  redisContext* raw = redisConnectWithTimeout(host.c_str(), port, connect_timeout);
  if (raw == nullptr) return fail("cannot allocate a Redis context");
  auto conn = std::make_unique<RedisConnection>(raw);
  if (raw->err != 0) {
    return fail("connect to " + host + ":" + std::to_string(port) + ": " + raw->errstr);
  }
  redisSetTimeout(raw, to_timeval(config.command_timeout_ms));
  if (!config.password.empty()) {
    RedisReplyPtr r = config.username.empty()
                          ? conn->command({"AUTH", config.password})
                          : conn->command({"AUTH", config.username, config.password});
    if (!r || r->type == REDIS_REPLY_ERROR) {
      return fail("AUTH failed: " + (r ? describe_reply(r.get()) : conn->error()));
    }
  }
  return conn;
}

std::string RedisConnection::error() const {
  if (!ctx_) return "no connection";
  return ctx_->err != 0 ? std::string(ctx_->errstr) : std::string();
}

RedisReplyPtr RedisConnection::command_argv(const std::string_view* args, std::size_t count) {
  if (!ok()) return nullptr;
  void* reply = with_argv(args, count, [&](int argc, const char** argv, const std::size_t* lens) {
    return redisCommandArgv(ctx_.get(), argc, argv, lens);
  });
  return RedisReplyPtr(static_cast<redisReply*>(reply));
}

RedisReplyPtr RedisConnection::command(std::initializer_list<std::string_view> args) {
  return command_argv(args.begin(), args.size());
}

RedisReplyPtr RedisConnection::command(const std::vector<std::string_view>& args) {
  return command_argv(args.data(), args.size());
}

void RedisConnection::append_argv(const std::string_view* args, std::size_t count) {
  if (!ok()) return;
  with_argv(args, count, [&](int argc, const char** argv, const std::size_t* lens) {
    return redisAppendCommandArgv(ctx_.get(), argc, argv, lens);
  });
}

void RedisConnection::append(std::initializer_list<std::string_view> args) {
  append_argv(args.begin(), args.size());
}

void RedisConnection::append(const std::vector<std::string_view>& args) {
  append_argv(args.data(), args.size());
}

RedisReplyPtr RedisConnection::get_reply() {
  if (!ok()) return nullptr;
  void* reply = nullptr;
  if (redisGetReply(ctx_.get(), &reply) != REDIS_OK) return nullptr;
  return RedisReplyPtr(static_cast<redisReply*>(reply));
}

bool RedisConnection::flush() {
  if (!ok()) return false;
  int done = 0;
  while (done == 0) {
    if (redisBufferWrite(ctx_.get(), &done) != REDIS_OK) return false;
  }
  return true;
}

bool RedisConnection::read_available() {
  if (!ok()) return false;
  return redisBufferRead(ctx_.get()) == REDIS_OK;
}

RedisReplyPtr RedisConnection::next_buffered_reply() {
  if (!ok()) return nullptr;
  void* reply = nullptr;
  if (redisGetReplyFromReader(ctx_.get(), &reply) != REDIS_OK) return nullptr;
  return RedisReplyPtr(static_cast<redisReply*>(reply));
}

std::string describe_reply(const redisReply* reply) {
  if (reply == nullptr) return "no reply";
  switch (reply->type) {
    case REDIS_REPLY_ERROR:
      return std::string(reply->str, reply->len);
    case REDIS_REPLY_STRING:
      return "string reply";
    case REDIS_REPLY_ARRAY:
      return "array reply";
    case REDIS_REPLY_INTEGER:
      return "integer reply";
    case REDIS_REPLY_NIL:
      return "nil reply";
    case REDIS_REPLY_STATUS:
      return std::string(reply->str, reply->len);
    default:
      return "reply of type " + std::to_string(reply->type);
  }
}

}  // namespace gk

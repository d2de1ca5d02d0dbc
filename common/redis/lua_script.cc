#include "common/redis/lua_script.h"

namespace gk {

namespace {

bool is_noscript(const redisReply* r) {
  return r->type == REDIS_REPLY_ERROR && std::string_view(r->str, r->len).starts_with("NOSCRIPT");
}

}  // namespace

std::string LuaScript::digest() const {
  std::lock_guard lock(mutex_);
  return sha_;
}

Result<RedisReplyPtr> LuaScript::run(RedisRouter& redis, const std::vector<std::string_view>& keys,
                                     const std::vector<std::string_view>& args) const {
  const std::string route = keys.empty() ? std::string() : std::string(keys.front());
  std::string sha = digest();
  if (sha.empty()) {
    auto loaded = redis.command(route, {"SCRIPT", "LOAD", text_});
    if (!loaded) return fail(redis.error());
    if (loaded->type == REDIS_REPLY_STRING) {
      sha.assign(loaded->str, loaded->len);
      std::lock_guard lock(mutex_);
      sha_ = sha;
    }
  }
  const std::string count = std::to_string(keys.size());
  std::vector<std::string_view> argv = {"EVALSHA", sha, count};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  RedisReplyPtr reply;
  if (!sha.empty()) reply = redis.command(route, argv);
  if (!reply && !redis.ok()) return fail(redis.error());
  if (!reply || is_noscript(reply.get())) {
    argv[0] = "EVAL";
    argv[1] = text_;
    reply = redis.command(route, argv);
  }
  if (!reply) return fail(redis.error());
  return reply;
}

std::string_view lua_status_prelude() noexcept {
  return R"lua(
-- The same reading as the message path: anything but '', '0' or 'false' is set.
local function is_set(v)
  return v ~= nil and v ~= false and v ~= '' and v ~= '0' and string.lower(v) ~= 'false'
end

-- Times past this (the writer's clock + changes.max_future_ms; each script sets it from its
-- arguments) were written by a bad clock, by hand or by another job: they count as 0, so
-- they cannot outrank a real change, and the first real change heals the field.
local horizon = math.huge

-- A stored change time as a number; missing, garbled or past the horizon counts as 0.
local function real_time(t)
  t = tonumber(t)
  if t == nil or t > horizon then return 0 end
  return t
end

-- A field's time; missing or garbled counts as 0, so any timed change wins over it.
local function stamp(key, f)
  return real_time(redis.call('HGET', key, f .. ':ts'))
end

-- Merges a lead's fields (a flat HGETALL list) into a user's hash: per status field the
-- newer change wins, a tie keeps the user's; a field without a time loses to a timed one.
local function merge_fields(into, flat)
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  for f, v in pairs(h) do
    -- A status field is any field but a time stamp ("topic:<name>" holds a ':' too).
    if string.sub(f, -3) ~= ':ts' then
      local from_ts = real_time(h[f .. ':ts'])
      if redis.call('HEXISTS', into, f) == 0 or from_ts > stamp(into, f) then
        redis.call('HSET', into, f, v)
        if from_ts > 0 then
          redis.call('HSET', into, f .. ':ts', h[f .. ':ts'])
        else
          redis.call('HDEL', into, f .. ':ts')
        end
      end
    end
  end
end
)lua";
}

}  // namespace gk

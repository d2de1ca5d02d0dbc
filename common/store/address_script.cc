#include "common/store/address_script.h"

#include <charconv>

#include "common/redis/lua_script.h"
#include "common/rules/optout_record.h"

namespace gk {

namespace {

// KEYS[1] the address hash. ARGV: mode ('set' | 'lift' | 'soft'), value '1'/'0', reason, ts,
// window ms, limit. Soft bounces are kept in the hash itself (field `soft_bounces`, the
// times within the window), so one key and one script cover the count and the suppression.
const LuaScript kScript(R"lua(
local key = KEYS[1]
local mode, value, reason, ts_text = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ts = tonumber(ts_text)
local function set(v) return v ~= false and v ~= '0' and v ~= '' and v ~= 'false' end
local old = redis.call('HMGET', key, 'suppressed', 'reason', 'suppressed:ts')
local old_set, old_reason, old_ts = set(old[1]), old[2] or '', tonumber(old[3] or '0') or 0
local function result(applied, changed)
  local now = redis.call('HMGET', key, 'suppressed', 'reason', 'suppressed:ts')
  return {old_set and 1 or 0, applied and 1 or 0, changed and 1 or 0,
          set(now[1]) and 1 or 0, now[2] or '', now[3] or '0'}
end
if mode == 'soft' then
  local window, limit = tonumber(ARGV[5]), tonumber(ARGV[6])
  local times, newest = {ts}, ts
  local text = redis.call('HGET', key, 'soft_bounces')
  if text then
    for t in string.gmatch(text, '%d+') do
      local n = tonumber(t)
      table.insert(times, n)
      if n > newest then newest = n end
    end
  end
  local kept = {}
  for _, t in ipairs(times) do
    if t >= newest - window then table.insert(kept, t) end
  end
  table.sort(kept)
  while #kept > limit do table.remove(kept, 1) end
  local parts = {}
  for i, t in ipairs(kept) do parts[i] = string.format('%d', t) end
  redis.call('HSET', key, 'soft_bounces', table.concat(parts, ','))
  if #kept < limit then return result(false, false) end
  value, reason, ts, ts_text = '1', 'bounce', newest, string.format('%d', newest)
elseif mode == 'lift' then
  if not old_set or old_reason ~= 'sms_stop' then return result(false, false) end
end
if ts < old_ts then return result(false, false) end
redis.call('HSET', key, 'suppressed', value, 'reason', reason, 'suppressed:ts', ts_text)
local now_set = value == '1'
return result(true, now_set ~= old_set or (now_set and reason ~= old_reason))
)lua");

EpochMs parse_ms(std::string_view s) {
  EpochMs v = 0;
  (void)std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::string_view text(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING ? std::string_view(r->str, r->len) : std::string_view();
}

}  // namespace

Result<AddressWriteResult> run_address_script(RedisRouter& redis, const AddressWrite& w) {
  const char* mode = w.mode == AddressWrite::Mode::kSet           ? "set"
                     : w.mode == AddressWrite::Mode::kLiftSmsStop ? "lift"
                                                                  : "soft";
  const std::string ts = std::to_string(w.ts), window = std::to_string(w.soft_bounce_window_ms),
                    limit = std::to_string(w.soft_bounce_limit);
  auto reply = kScript.run(
      redis, {w.key}, {mode, w.suppressed ? "1" : "0", to_string(w.reason), ts, window, limit});
  if (!reply) return fail(reply.error());
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 6) {
    return fail("address script: " + describe_reply(r));
  }
  AddressWriteResult out;
  out.old_suppressed = r->element[0]->integer == 1;
  out.applied = r->element[1]->integer == 1;
  out.changed = r->element[2]->integer == 1;
  out.suppressed = r->element[3]->integer == 1;
  out.reason = std::string(text(r->element[4]));
  out.ts = parse_ms(text(r->element[5]));
  return out;
}

Result<AddressState> read_address(RedisRouter& redis, const std::string& key) {
  auto reply = redis.command(key, {"HMGET", key, "suppressed", "reason", "suppressed:ts"});
  if (!reply) return fail(redis.error());
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
    return fail("HMGET: " + describe_reply(reply.get()));
  }
  AddressState s;
  s.found = reply->element[0]->type == REDIS_REPLY_STRING;
  s.suppressed = s.found && status_value_true(text(reply->element[0]));
  s.reason = std::string(text(reply->element[1]));
  s.ts = parse_ms(text(reply->element[2]));
  return s;
}

}  // namespace gk

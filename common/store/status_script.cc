#include "common/store/status_script.h"

#include <vector>

#include <nlohmann/json.hpp>

#include "common/protocol/system_event.h"
#include "common/redis/lua_script.h"
#include "common/rules/identity.h"
#include "common/store/key_schema.h"
#include "common/store/status_write_cluster.h"

namespace gk {

namespace {

// One script per change, so resolving the person, linking, merging, the last-writer-wins
// comparison, the write and the history entry happen atomically with respect to every other
// writer (other sidecars, other jobs using the same script). Keys are derived inside the
// script from the link it reads, so they cannot be declared up front: this is the single
// server's path; a cluster takes the steps of status_write_cluster.cc instead.
constexpr std::string_view kScript = R"lua(
-- ARGV: bu, external id, email (lower-case), field ('' = link only), value '1'/'0',
--       ts (ms), history length, history entry head (JSON text ending in a comma),
--       horizon (the writer's now + changes.max_future_ms), emails linked per user at most,
--       then the key prefixes of the KeySchema: user, lead, linked emails, link, user
--       history, lead history (each key is its prefix .. bu .. ':' .. id or email)
local bu, id, email = ARGV[1], ARGV[2], ARGV[3]
local field, value, ts_text = ARGV[4], ARGV[5], ARGV[6]
local ts, keep, entry_head = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
horizon = tonumber(ARGV[9]) or horizon
local max_links = tonumber(ARGV[10]) or 100
local user_prefix, lead_prefix, emails_prefix = ARGV[11], ARGV[12], ARGV[13]
local link_prefix, user_history_prefix, lead_history_prefix = ARGV[14], ARGV[15], ARGV[16]

local function user_key(uid) return user_prefix .. bu .. ':' .. uid end
local function lead_key(mail) return lead_prefix .. bu .. ':' .. mail end
local function emails_key(uid) return emails_prefix .. bu .. ':' .. uid end
local function link_key(mail) return link_prefix .. bu .. ':' .. mail end

-- Moves a lead's statuses into its user (merge_fields), then deletes the lead so no stale
-- second record is left behind.
local function merge(from, into)
  merge_fields(into, redis.call('HGETALL', from))
  redis.call('DEL', from)
end

-- False, and nothing done, when the user already has max_links other emails: every write for
-- the user walks that set, so it must stay bounded.
local function link(uid, mail)
  if redis.call('SISMEMBER', emails_key(uid), mail) == 0 and
     redis.call('SCARD', emails_key(uid)) >= max_links then
    return false
  end
  local key = link_key(mail)
  local previous = redis.call('GET', key)
  if previous ~= uid then
    redis.call('SET', key, uid)
    if previous and previous ~= '' then redis.call('SREM', emails_key(previous), mail) end
  end
  redis.call('SADD', emails_key(uid), mail)
  if redis.call('EXISTS', lead_key(mail)) == 1 then merge(lead_key(mail), user_key(uid)) end
  return true
end

-- Last writer wins by time: an equal time applies too, so a retried write is idempotent.
local function apply(key)
  local old = is_set(redis.call('HGET', key, field))
  if ts >= stamp(key, field) then
    redis.call('HSET', key, field, value, field .. ':ts', ts_text)
    return old, true
  end
  return old, false
end

local target, history
local refused = false
if id ~= '' then
  if email ~= '' then refused = not link(id, email) end
else
  local linked = redis.call('GET', link_key(email))
  if linked and linked ~= '' then
    id = linked
    refused = not link(id, email)
  end
end
if id ~= '' then
  target = user_key(id)
  history = user_history_prefix .. bu .. ':' .. id
else
  target = lead_key(email)
  history = lead_history_prefix .. bu .. ':' .. email
end
if field == '' then return {0, 0, refused and 1 or 0} end

local old, applied = apply(target)
if refused then
  -- Not linked, so readers by email alone look at the lead: an opt-out must be there too.
  local _, _ = apply(lead_key(email))
end
if id ~= '' then
  -- A lead record of a linked email may have been written again since the merge (by another
  -- job); the same change goes there too, so an Opt In cannot leave an older opt-out behind.
  for _, mail in ipairs(redis.call('SMEMBERS', emails_key(id))) do
    if redis.call('EXISTS', lead_key(mail)) == 1 then
      local lead = lead_key(mail)
      local _, _ = apply(lead)
    end
  end
end
redis.call('LPUSH', history, entry_head .. '"old":' .. tostring(old) .. ',"applied":' ..
  tostring(applied) .. '}')
redis.call('LTRIM', history, 0, keep - 1)
return {old and 1 or 0, applied and 1 or 0, refused and 1 or 0}
)lua";

const LuaScript& single_server_script() {
  static const LuaScript script(std::string(lua_status_prelude()) + std::string(kScript));
  return script;
}

// The history entry up to its last two keys, which only the script knows.
std::string entry_head(const StatusWrite& w) {
  nlohmann::json head = {{"ts", w.ts},
                         {"timestamp", format_iso8601(w.ts)},
                         {"receivedAt", format_iso8601(w.received)},
                         {"channel", w.field},
                         {"field", w.field},
                         {"new", w.value},
                         {"source", w.source},
                         {"event", w.event}};
  auto props = nlohmann::json::parse(w.properties.empty() ? "{}" : w.properties, nullptr, false);
  head["properties"] = props.is_object() ? props : nlohmann::json::object();
  std::string text = safe_dump(head);
  text.back() = ',';  // "{...}" -> "{...," for the script to complete
  return text;
}

}  // namespace

EpochMs clamp_change_time(EpochMs ts, EpochMs received, EpochMs now, EpochMs max_future_ms,
                          bool& clamped) noexcept {
  const EpochMs horizon = now + max_future_ms;
  clamped = ts > horizon;
  if (!clamped) return ts;
  return received > 0 && received <= horizon ? received : now;
}

std::vector<std::string> status_script_sources() {
  std::vector<std::string> out = cluster_status_script_sources();
  out.emplace_back(lua_status_prelude());
  out.emplace_back(kScript);
  return out;
}

Result<StatusWriteResult> parse_status_reply(const redisReply* reply, bool value) {
  const auto integer_at = [&](std::size_t i) {
    return reply->element[i]->type == REDIS_REPLY_INTEGER;
  };
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 || reply->elements > 3 ||
      !integer_at(0) || !integer_at(1) || (reply->elements == 3 && !integer_at(2))) {
    return fail("status script: " + describe_reply(reply));
  }
  StatusWriteResult r;
  r.old_value = reply->element[0]->integer != 0;
  r.new_value = value;
  r.applied = reply->element[1]->integer != 0;
  r.changed = r.applied && r.old_value != r.new_value;
  r.link_refused = reply->elements == 3 && reply->element[2]->integer != 0;
  return r;
}

namespace {

// The whole change in one atomic script: on a single server every key is on the one node.
Result<StatusWriteResult> run_single_server_write(RedisRouter& redis, const RedisConfig& config,
                                                  const KeySchema& keys, const StatusWrite& w,
                                                  const std::string& head, EpochMs horizon,
                                                  std::size_t max_emails_per_user) {
  const std::string email = normalize_email(w.email);
  const std::string ts = std::to_string(w.ts);
  const std::string keep = std::to_string(config.history_length);
  const std::string horizon_text = std::to_string(horizon);
  const std::string max_links = std::to_string(max_emails_per_user);
  auto reply = single_server_script().run(
      redis, {},
      {w.bu, w.external_id, email, w.field, w.value ? "1" : "0", ts, keep, head, horizon_text,
       max_links, keys.user_prefix(), keys.lead_prefix(), keys.linked_emails_prefix(),
       keys.link_prefix(), keys.user_history_prefix(), keys.lead_history_prefix()});
  if (!reply) return fail(reply.error());
  return parse_status_reply(reply->get(), w.value);
}

}  // namespace

Result<StatusWriteResult> run_status_script(RedisRouter& redis, const RedisConfig& config,
                                            const StatusWrite& write, const StatusLimits& limits) {
  const EpochMs now = limits.now > 0 ? limits.now : now_ms();
  // Here, where every path passes, so that no way in (API, events, ESP feedback, imports,
  // links) can store a time that would outrank every real change after it.
  bool clamped = false;
  StatusWrite w = write;
  w.ts = clamp_change_time(write.ts, write.received, now, limits.max_future_ms, clamped);
  const EpochMs horizon = now + limits.max_future_ms;
  const std::string head = w.field.empty() ? std::string() : entry_head(w);
  // The scripts build <prefix>u:<bu>:... themselves, past KeySchema's guard. Every entry
  // point rejects such a business unit first; a caller that skipped that gets an error here
  // (this is fallible I/O already), not a write to a key another tenant's person may own.
  if (const auto problem = business_unit_problem(w.bu); !problem.empty()) {
    return fail("refusing to build a key: business unit " + std::string(problem));
  }
  // Cheap next to the round trip, and keeps the layout with the schema rather than with
  // every caller.
  const KeySchema keys(config.key_prefix, redis.cluster());
  auto result = redis.cluster() ? run_cluster_status_write(redis, config, keys, w, head, horizon,
                                                           limits.max_emails_per_user)
                                : run_single_server_write(redis, config, keys, w, head, horizon,
                                                          limits.max_emails_per_user);
  if (result) {
    result->ts = w.ts;
    result->timestamp_clamped = clamped;
  }
  return result;
}

}  // namespace gk

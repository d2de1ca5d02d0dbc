#include "common/store/status_write_cluster.h"

#include <vector>

#include "common/redis/lua_script.h"
#include "common/rules/identity.h"

namespace gk {

namespace {

// Last writer wins by time on one status hash; an equal time applies too, so a retried write
// is idempotent. With a second key the history entry is pushed in the same script.
constexpr std::string_view kApply = R"lua(
-- KEYS: status hash [, history list]; ARGV: field, value, ts, history length, entry head,
--       '1' to touch only an existing hash (a linked lead), horizon (see the prelude)
local key, history = KEYS[1], KEYS[2]
local field, value, ts_text = ARGV[1], ARGV[2], ARGV[3]
local ts, keep, head = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
horizon = tonumber(ARGV[7]) or horizon
if ARGV[6] == '1' and redis.call('EXISTS', key) == 0 then return {0, 0} end
local old = is_set(redis.call('HGET', key, field))
local applied = ts >= stamp(key, field)
if applied then redis.call('HSET', key, field, value, field .. ':ts', ts_text) end
if history then
  redis.call('LPUSH', history, head .. '"old":' .. tostring(old) .. ',"applied":' ..
    tostring(applied) .. '}')
  redis.call('LTRIM', history, 0, keep - 1)
end
return {old and 1 or 0, applied and 1 or 0}
)lua";

// A lead's statuses (ARGV after the horizon, as HGETALL gave them) into its user, by the rule
// of merge_fields, the same as the single-server merge.
constexpr std::string_view kMerge = R"lua(
horizon = tonumber(ARGV[1]) or horizon
local flat = {}
for i = 2, #ARGV do flat[#flat + 1] = ARGV[i] end
merge_fields(KEYS[1], flat)
return 1
)lua";

// Deletes the lead only if it still holds exactly what was merged; 0 when another writer
// changed it in between (the caller merges again).
constexpr std::string_view kDeleteIfSame = R"lua(
local now = redis.call('HGETALL', KEYS[1])
if #now ~= #ARGV then return 0 end
local want = {}
for i = 1, #ARGV, 2 do want[ARGV[i]] = ARGV[i + 1] end
for i = 1, #now, 2 do
  if want[now[i]] ~= now[i + 1] then return 0 end
end
redis.call('DEL', KEYS[1])
return 1
)lua";

const LuaScript& apply_script() {
  static const LuaScript script(std::string(lua_status_prelude()) + std::string(kApply));
  return script;
}

const LuaScript& merge_script() {
  static const LuaScript script(std::string(lua_status_prelude()) + std::string(kMerge));
  return script;
}

const LuaScript& delete_if_same_script() {
  static const LuaScript script{std::string(kDeleteIfSame)};
  return script;
}

// A command whose reply must not be an error; nullptr (and `error`) otherwise.
RedisReplyPtr checked(RedisReplyPtr reply, RedisRouter& redis, std::string_view what,
                      std::string& error) {
  if (!reply) {
    error = redis.error();
    return nullptr;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    error = std::string(what) + ": " + describe_reply(reply.get());
    return nullptr;
  }
  return reply;
}

std::vector<std::string> strings_of(const redisReply* reply) {
  std::vector<std::string> out;
  if (reply->type != REDIS_REPLY_ARRAY) return out;
  for (std::size_t i = 0; i < reply->elements; ++i) {
    const redisReply* e = reply->element[i];
    if (e->type == REDIS_REPLY_STRING) out.emplace_back(e->str, e->len);
  }
  return out;
}

// Attempts at merging a lead that other writers keep changing; past them the lead stays,
// which is safe: readers OR it in, and the user's changes reach it (step 4).
constexpr int kMergeAttempts = 3;

// Whether linking `email` to `uid` would take the user past `max_links` emails. Not atomic
// with the SADD that follows: writers racing on one user can overshoot by their number,
// which keeps the set bounded all the same.
std::optional<bool> link_refused(RedisRouter& redis, const KeySchema& keys, std::string_view bu,
                                 const std::string& uid, const std::string& email,
                                 std::size_t max_links, std::string& error) {
  const std::string emails = keys.linked_emails(bu, uid);
  auto member =
      checked(redis.command(emails, {"SISMEMBER", emails, email}), redis, "SISMEMBER", error);
  if (!member) return std::nullopt;
  if (member->type == REDIS_REPLY_INTEGER && member->integer == 1) return false;
  auto size = checked(redis.command(emails, {"SCARD", emails}), redis, "SCARD", error);
  if (!size) return std::nullopt;
  return size->type == REDIS_REPLY_INTEGER && static_cast<std::size_t>(size->integer) >= max_links;
}

bool link(RedisRouter& redis, const KeySchema& keys, std::string_view bu, const std::string& uid,
          const std::string& email, const std::string& horizon, std::string& error) {
  std::string link, lead, user;
  keys.link(link, bu, email);
  keys.lead(lead, bu, email);
  keys.user(user, bu, uid);
  const std::string emails = keys.linked_emails(bu, uid);

  auto previous = checked(redis.command(link, {"GET", link}), redis, "GET link", error);
  if (!previous) return false;
  // First the set, so a change made through the user from now on reaches the lead too.
  if (!checked(redis.command(emails, {"SADD", emails, email}), redis, "SADD", error)) return false;
  // Reads the lead and merges it into the user; the lead's fields, for the delete below.
  std::vector<std::string> flat;
  auto merge = [&] {
    auto fields = checked(redis.command(lead, {"HGETALL", lead}), redis, "HGETALL lead", error);
    if (!fields) return false;
    flat = strings_of(fields.get());
    if (flat.empty()) return true;
    std::vector<std::string_view> args = {horizon};
    args.insert(args.end(), flat.begin(), flat.end());
    return checked(merge_script().run(redis, {user}, args, error), redis, "merge", error) !=
           nullptr;
  };
  if (!merge()) return false;
  const std::string before = previous->type == REDIS_REPLY_STRING
                                 ? std::string(previous->str, previous->len)
                                 : std::string();
  if (before != uid) {
    // Readers by email now find the user, which already holds the lead's statuses.
    if (!checked(redis.command(link, {"SET", link, uid}), redis, "SET link", error)) return false;
    if (!before.empty()) {
      const std::string old_emails = keys.linked_emails(bu, before);
      if (!checked(redis.command(old_emails, {"SREM", old_emails, email}), redis, "SREM", error)) {
        return false;
      }
    }
  }
  // Only then the lead goes, and only as it was merged; a lead changed in between is merged
  // again.
  for (int attempt = 0; attempt < kMergeAttempts && !flat.empty(); ++attempt) {
    const std::vector<std::string_view> args(flat.begin(), flat.end());
    auto deleted = checked(delete_if_same_script().run(redis, {lead}, args, error), redis,
                           "delete lead", error);
    if (!deleted) return false;
    if (deleted->type == REDIS_REPLY_INTEGER && deleted->integer == 1) break;
    if (!merge()) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> cluster_status_script_sources() {
  return {std::string(kApply), std::string(kMerge), std::string(kDeleteIfSame)};
}

std::optional<StatusWriteResult> run_cluster_status_write(
    RedisRouter& redis, const RedisConfig& config, const KeySchema& keys, const StatusWrite& w,
    std::string_view entry_head, EpochMs horizon, std::size_t max_links, std::string& error) {
  const std::string email = normalize_email(w.email);
  const std::string horizon_text = std::to_string(horizon);
  std::string uid = w.external_id;
  if (uid.empty() && !email.empty()) {
    std::string link;
    keys.link(link, w.bu, email);
    auto linked = checked(redis.command(link, {"GET", link}), redis, "GET link", error);
    if (!linked) return std::nullopt;
    if (linked->type == REDIS_REPLY_STRING) uid.assign(linked->str, linked->len);
  }
  bool refused = false;
  if (!uid.empty() && !email.empty()) {
    const auto over = link_refused(redis, keys, w.bu, uid, email, max_links, error);
    if (!over) return std::nullopt;
    refused = *over;
    if (!refused && !link(redis, keys, w.bu, uid, email, horizon_text, error)) {
      return std::nullopt;
    }
  }
  if (w.field.empty()) {
    StatusWriteResult link_only;
    link_only.link_refused = refused;
    return link_only;
  }

  const bool lead = uid.empty();
  std::string target;
  if (lead) {
    keys.lead(target, w.bu, email);
  } else {
    keys.user(target, w.bu, uid);
  }
  const std::string history = keys.history(lead, w.bu, lead ? std::string_view(email) : uid);
  const std::string ts = std::to_string(w.ts);
  const std::string keep = std::to_string(config.history_length);
  const std::string_view value = w.value ? "1" : "0";
  auto reply =
      checked(apply_script().run(redis, {target, history},
                                 {w.field, value, ts, keep, entry_head, "0", horizon_text}, error),
              redis, "status write", error);
  if (!reply) return std::nullopt;
  auto result = parse_status_reply(reply.get(), w.value, error);
  if (!result || lead) return result;
  result->link_refused = refused;
  if (refused) {
    // Not linked, so readers by email alone look at the lead: an opt-out must be there too.
    std::string unlinked;
    keys.lead(unlinked, w.bu, email);
    if (!checked(apply_script().run(redis, {unlinked},
                                    {w.field, value, ts, keep, "", "0", horizon_text}, error),
                 redis, "unlinked lead write", error)) {
      return std::nullopt;
    }
  }

  // A lead of a linked email may have been written again since its merge (by another job):
  // the same change goes there too, so an Opt In cannot leave an older opt-out behind.
  const std::string emails = keys.linked_emails(w.bu, uid);
  auto members = checked(redis.command(emails, {"SMEMBERS", emails}), redis, "SMEMBERS", error);
  if (!members) return std::nullopt;
  for (const std::string& mail : strings_of(members.get())) {
    std::string other;
    keys.lead(other, w.bu, mail);
    if (!checked(apply_script().run(redis, {other},
                                    {w.field, value, ts, keep, "", "1", horizon_text}, error),
                 redis, "linked lead write", error)) {
      return std::nullopt;
    }
  }
  return result;
}

}  // namespace gk

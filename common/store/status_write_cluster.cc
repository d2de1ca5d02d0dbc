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

// A command whose reply must not be an error reply.
Result<RedisReplyPtr> checked(Result<RedisReplyPtr> reply, std::string_view what) {
  if (reply && (*reply)->type == REDIS_REPLY_ERROR) {
    return fail(std::string(what) + ": " + describe_reply(reply->get()));
  }
  return reply;
}

// The same for a router command, which is null on an I/O failure.
Result<RedisReplyPtr> checked(RedisReplyPtr reply, RedisRouter& redis, std::string_view what) {
  if (!reply) return fail(redis.error());
  return checked(Result<RedisReplyPtr>(std::move(reply)), what);
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
Result<bool> link_refused(RedisRouter& redis, const KeySchema& keys, std::string_view bu,
                          const std::string& uid, const std::string& email, std::size_t max_links) {
  const std::string emails = keys.linked_emails(bu, uid);
  auto member = checked(redis.command(emails, {"SISMEMBER", emails, email}), redis, "SISMEMBER");
  if (!member) return fail(member.error());
  if ((*member)->type == REDIS_REPLY_INTEGER && (*member)->integer == 1) return false;
  auto size = checked(redis.command(emails, {"SCARD", emails}), redis, "SCARD");
  if (!size) return fail(size.error());
  return (*size)->type == REDIS_REPLY_INTEGER &&
         static_cast<std::size_t>((*size)->integer) >= max_links;
}

Status link(RedisRouter& redis, const KeySchema& keys, std::string_view bu, const std::string& uid,
            const std::string& email, const std::string& horizon) {
  std::string link, lead, user;
  keys.link(link, bu, email);
  keys.lead(lead, bu, email);
  keys.user(user, bu, uid);
  const std::string emails = keys.linked_emails(bu, uid);

  auto previous = checked(redis.command(link, {"GET", link}), redis, "GET link");
  if (!previous) return fail(previous.error());
  // First the set, so a change made through the user from now on reaches the lead too.
  if (auto added = checked(redis.command(emails, {"SADD", emails, email}), redis, "SADD"); !added) {
    return fail(added.error());
  }
  // Reads the lead and merges it into the user; the lead's fields, for the delete below.
  std::vector<std::string> flat;
  auto merge = [&]() -> Status {
    auto fields = checked(redis.command(lead, {"HGETALL", lead}), redis, "HGETALL lead");
    if (!fields) return fail(fields.error());
    flat = strings_of(fields->get());
    if (flat.empty()) return {};
    std::vector<std::string_view> args = {horizon};
    args.insert(args.end(), flat.begin(), flat.end());
    if (auto merged = checked(merge_script().run(redis, {user}, args), "merge"); !merged) {
      return fail(merged.error());
    }
    return {};
  };
  if (auto merged = merge(); !merged) return merged;
  const redisReply* prev = previous->get();
  const std::string before =
      prev->type == REDIS_REPLY_STRING ? std::string(prev->str, prev->len) : std::string();
  if (before != uid) {
    // Readers by email now find the user, which already holds the lead's statuses.
    if (auto set = checked(redis.command(link, {"SET", link, uid}), redis, "SET link"); !set) {
      return fail(set.error());
    }
    if (!before.empty()) {
      const std::string old_emails = keys.linked_emails(bu, before);
      if (auto removed =
              checked(redis.command(old_emails, {"SREM", old_emails, email}), redis, "SREM");
          !removed) {
        return fail(removed.error());
      }
    }
  }
  // Only then the lead goes, and only as it was merged; a lead changed in between is merged
  // again.
  for (int attempt = 0; attempt < kMergeAttempts && !flat.empty(); ++attempt) {
    const std::vector<std::string_view> args(flat.begin(), flat.end());
    auto deleted = checked(delete_if_same_script().run(redis, {lead}, args), "delete lead");
    if (!deleted) return fail(deleted.error());
    if ((*deleted)->type == REDIS_REPLY_INTEGER && (*deleted)->integer == 1) break;
    if (auto merged = merge(); !merged) return merged;
  }
  return {};
}

}  // namespace

std::vector<std::string> cluster_status_script_sources() {
  return {std::string(kApply), std::string(kMerge), std::string(kDeleteIfSame)};
}

Result<StatusWriteResult> run_cluster_status_write(RedisRouter& redis, const RedisConfig& config,
                                                   const KeySchema& keys, const StatusWrite& w,
                                                   std::string_view entry_head, EpochMs horizon,
                                                   std::size_t max_links) {
  const std::string email = normalize_email(w.email);
  const std::string horizon_text = std::to_string(horizon);
  std::string uid = w.external_id;
  if (uid.empty() && !email.empty()) {
    std::string link;
    keys.link(link, w.bu, email);
    auto linked = checked(redis.command(link, {"GET", link}), redis, "GET link");
    if (!linked) return fail(linked.error());
    if ((*linked)->type == REDIS_REPLY_STRING) uid.assign((*linked)->str, (*linked)->len);
  }
  bool refused = false;
  if (!uid.empty() && !email.empty()) {
    const auto over = link_refused(redis, keys, w.bu, uid, email, max_links);
    if (!over) return fail(over.error());
    refused = *over;
    if (!refused) {
      if (auto linked = link(redis, keys, w.bu, uid, email, horizon_text); !linked) {
        return fail(linked.error());
      }
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
                                 {w.field, value, ts, keep, entry_head, "0", horizon_text}),
              "status write");
  if (!reply) return fail(reply.error());
  auto result = parse_status_reply(reply->get(), w.value);
  if (!result || lead) return result;
  result->link_refused = refused;
  if (refused) {
    // Not linked, so readers by email alone look at the lead: an opt-out must be there too.
    std::string unlinked;
    keys.lead(unlinked, w.bu, email);
    if (auto written =
            checked(apply_script().run(redis, {unlinked},
                                       {w.field, value, ts, keep, "", "0", horizon_text}),
                    "unlinked lead write");
        !written) {
      return fail(written.error());
    }
  }

  // A lead of a linked email may have been written again since its merge (by another job):
  // the same change goes there too, so an Opt In cannot leave an older opt-out behind.
  const std::string emails = keys.linked_emails(w.bu, uid);
  auto members = checked(redis.command(emails, {"SMEMBERS", emails}), redis, "SMEMBERS");
  if (!members) return fail(members.error());
  for (const std::string& mail : strings_of(members->get())) {
    std::string other;
    keys.lead(other, w.bu, mail);
    if (auto written = checked(
            apply_script().run(redis, {other}, {w.field, value, ts, keep, "", "1", horizon_text}),
            "linked lead write");
        !written) {
      return fail(written.error());
    }
  }
  return result;
}

}  // namespace gk

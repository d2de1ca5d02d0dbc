#include "common/store/import_script.h"

#include <array>
#include <map>
#include <mutex>

#include "common/redis/cluster_slots.h"
#include "common/redis/lua_script.h"

namespace gk {

namespace {

// Rows per script call: large enough that the call overhead vanishes, small enough that one
// call holds Redis for about a millisecond, not longer.
constexpr std::size_t kRowsPerScript = 400;

// Many rows per call, each the same as the status script would do to a person without
// links: last writer wins by the row's time (an equal time applies, as everywhere), and a
// change is recorded in the person's history. Address rows write the suppression hash of
// PROTOCOL.md 11 by the same rule on `suppressed:ts`. With `follow` (single server, where
// every key is on this node) a row whose person has a link is left to the full status write
// (3), or in a dry run compared with the user the email is linked to.
constexpr std::string_view kScript = R"lua(
-- KEYS: per row its status hash and its history list (an address row: its hash twice)
-- ARGV: dry ('1'), horizon, history length, receivedAt (ISO-8601), follow links ('1'),
--       the KeySchema's user, lead, link and linked-emails prefixes, then 8 per row:
--       kind ('user', 'lead', 'address'), bu, who, field, value, ts, timestamp (ISO-8601),
--       the event name (an address row: its reason, '' to keep the stored one)
horizon = tonumber(ARGV[2]) or horizon
local dry, keep, received, follow = ARGV[1] == '1', tonumber(ARGV[3]), ARGV[4], ARGV[5] == '1'
local user_prefix, link_prefix, emails_prefix = ARGV[6], ARGV[8], ARGV[9]
local first = 9
local out = {}
for i = 0, (#ARGV - first) / 8 - 1 do
  local a = first + i * 8
  local kind, bu, who, field = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local value, ts_text, iso, extra = ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8]
  local key, history = KEYS[2 * i + 1], KEYS[2 * i + 2]
  local ts = tonumber(ts_text)
  local code
  if kind == 'address' then
    if ts < stamp(key, 'suppressed') then
      code = 0
    else
      local now = value == '1'
      local changed = is_set(redis.call('HGET', key, 'suppressed')) ~= now
      if now and extra ~= '' and redis.call('HGET', key, 'reason') ~= extra then changed = true end
      if not dry then
        redis.call('HSET', key, 'suppressed', value, 'suppressed:ts', ts_text)
        if extra ~= '' then redis.call('HSET', key, 'reason', extra) end
      end
      code = changed and 2 or 1
    end
  else
    if follow then
      if kind == 'lead' then
        local linked = redis.call('GET', link_prefix .. bu .. ':' .. who)
        if linked and linked ~= '' then
          if dry then key = user_prefix .. bu .. ':' .. linked else code = 3 end
        end
      elseif not dry and redis.call('SCARD', emails_prefix .. bu .. ':' .. who) > 0 then
        code = 3
      end
    end
    if code == nil then
      local old = is_set(redis.call('HGET', key, field))
      if ts < stamp(key, field) then
        code = 0
      else
        local changed = old ~= (value == '1')
        if not dry then
          redis.call('HSET', key, field, value, field .. ':ts', ts_text)
          if changed then
            local f = cjson.encode(field)
            redis.call('LPUSH', history, '{"ts":' .. ts_text .. ',"timestamp":"' .. iso ..
              '","receivedAt":"' .. received .. '","channel":' .. f .. ',"field":' .. f ..
              ',"new":' .. tostring(value == '1') .. ',"source":"import","event":' ..
              cjson.encode(extra) .. ',"properties":{},"old":' .. tostring(old) ..
              ',"applied":true}')
            redis.call('LTRIM', history, 0, keep - 1)
          end
        end
        code = changed and 2 or 1
      end
    end
  end
  out[#out + 1] = code
end
return out
)lua";

const std::string& script_text() {
  static const std::string text = std::string(lua_status_prelude()) + std::string(kScript);
  return text;
}

// The digest every node answers SCRIPT LOAD with; learnt once per process.
std::mutex sha_mutex;
std::string sha_cache;

std::string_view kind_name(ImportWrite::Kind kind) {
  switch (kind) {
    case ImportWrite::Kind::kUser:
      return "user";
    case ImportWrite::Kind::kLead:
      return "lead";
    case ImportWrite::Kind::kAddress:
      return "address";
  }
  return "user";
}

bool is_noscript(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_ERROR &&
         std::string_view(r->str, r->len).starts_with("NOSCRIPT");
}

// Loads the script on the node of `key`; its digest.
Result<std::string> load(RedisRouter& redis, std::string_view key) {
  auto reply = redis.command(key, {"SCRIPT", "LOAD", script_text()});
  if (!reply) return fail(redis.error());
  if (reply->type != REDIS_REPLY_STRING) {
    return fail("import script: SCRIPT LOAD: " + describe_reply(reply.get()));
  }
  std::string sha(reply->str, reply->len);
  std::lock_guard lock(sha_mutex);
  sha_cache = sha;
  return sha;
}

// The text each row passes besides its keys.
struct RowText {
  std::string key, history, ts, iso;
};

class Batch {
 public:
  Batch(RedisRouter& redis, const RedisConfig& config, const std::vector<ImportWrite>& rows,
        const ImportBatchOptions& options)
      : redis_(redis),
        keys_(config.key_prefix, redis.cluster()),
        rows_(rows),
        text_(rows.size()),
        outcomes_(rows.size(), ImportOutcome::kOlder),
        dry_(options.dry_run ? "1" : "0"),
        horizon_(std::to_string(options.horizon)),
        keep_(std::to_string(config.history_length)),
        received_(format_iso8601(options.received)) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const ImportWrite& r = rows[i];
      RowText& t = text_[i];
      switch (r.kind) {
        case ImportWrite::Kind::kUser:
          keys_.user(t.key, r.bu, r.who);
          t.history = keys_.history(false, r.bu, r.who);
          break;
        case ImportWrite::Kind::kLead:
          keys_.lead(t.key, r.bu, r.who);
          t.history = keys_.history(true, r.bu, r.who);
          break;
        case ImportWrite::Kind::kAddress:
          keys_.address(t.key, r.field, r.who);
          t.history = t.key;
          break;
      }
      t.ts = std::to_string(r.ts);
      t.iso = format_iso8601(r.ts);
    }
  }

  Result<std::vector<ImportOutcome>> run() {
    if (rows_.empty()) return outcomes_;
    std::vector<std::size_t> todo;
    if (redis_.cluster()) {
      if (auto found = find_links(todo); !found) return fail(found.error());
      // One script per slot: every key a script names must live in one slot.
      std::map<std::uint16_t, std::vector<std::size_t>> by_slot;
      for (std::size_t i : todo) by_slot[key_slot(text_[i].key)].push_back(i);
      for (auto& [slot, rows] : by_slot) add_calls(rows, false);
    } else {
      todo.resize(rows_.size());
      for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;
      add_calls(todo, true);
    }
    if (auto sent = send(); !sent) return fail(sent.error());
    return outcomes_;
  }

 private:
  // Cluster: the link and the linked emails live in other slots than the status hash, so
  // one pipelined round reads them first. Rows without a link go to `todo`.
  Status find_links(std::vector<std::size_t>& todo) {
    std::vector<std::string> probe_keys(rows_.size());
    std::vector<RedisRouter::Command> probes;
    std::vector<std::size_t> probed;
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      const ImportWrite& r = rows_[i];
      if (r.kind == ImportWrite::Kind::kLead) {
        keys_.link(probe_keys[i], r.bu, r.who);
        probes.push_back({probe_keys[i], {"GET", probe_keys[i]}});
      } else if (r.kind == ImportWrite::Kind::kUser && !dry_run()) {
        probe_keys[i] = keys_.linked_emails(r.bu, r.who);
        probes.push_back({probe_keys[i], {"SCARD", probe_keys[i]}});
      } else {
        todo.push_back(i);
        continue;
      }
      probed.push_back(i);
    }
    if (probes.empty()) return {};
    std::vector<RedisReplyPtr> replies;
    if (!redis_.pipeline(probes, replies)) return fail(redis_.error());
    for (std::size_t n = 0; n < probed.size(); ++n) {
      const std::size_t i = probed[n];
      const redisReply* r = replies[n].get();
      if (r->type == REDIS_REPLY_ERROR) return fail("import: " + describe_reply(r));
      const bool linked = (r->type == REDIS_REPLY_STRING && r->len > 0) ||
                          (r->type == REDIS_REPLY_INTEGER && r->integer > 0);
      if (!linked) {
        todo.push_back(i);
      } else if (dry_run() && r->type == REDIS_REPLY_STRING) {
        // A dry run compares with the user the email is linked to, as the write would.
        keys_.user(text_[i].key, rows_[i].bu, std::string_view(r->str, r->len));
        text_[i].history = text_[i].key;  // not written in a dry run
        todo.push_back(i);
      } else {
        outcomes_[i] = ImportOutcome::kLinked;
      }
    }
    return {};
  }

  bool dry_run() const noexcept { return dry_ == "1"; }

  // Script calls for `rows`, kRowsPerScript at most each; routed by their first key.
  void add_calls(const std::vector<std::size_t>& rows, bool follow) {
    for (std::size_t start = 0; start < rows.size(); start += kRowsPerScript) {
      const std::size_t end = std::min(rows.size(), start + kRowsPerScript);
      Call call;
      call.rows.assign(rows.begin() + static_cast<std::ptrdiff_t>(start),
                       rows.begin() + static_cast<std::ptrdiff_t>(end));
      call.count = std::to_string(call.rows.size() * 2);
      call.follow = follow;
      calls_.push_back(std::move(call));
    }
  }

  struct Call {
    std::vector<std::size_t> rows;
    std::string count;  // number of keys
    bool follow = false;
  };

  RedisRouter::Command command(const Call& call, std::string_view sha) const {
    RedisRouter::Command c;
    c.key = text_[call.rows.front()].key;
    c.args.reserve(3 + call.rows.size() * 10 + 9);
    c.args = {"EVALSHA", sha, call.count};
    for (std::size_t i : call.rows) {
      c.args.push_back(text_[i].key);
      c.args.push_back(text_[i].history);
    }
    c.args.insert(c.args.end(),
                  {dry_, horizon_, keep_, received_, call.follow ? "1" : "0", keys_.user_prefix(),
                   keys_.lead_prefix(), keys_.link_prefix(), keys_.linked_emails_prefix()});
    for (std::size_t i : call.rows) {
      const ImportWrite& r = rows_[i];
      const RowText& t = text_[i];
      c.args.insert(c.args.end(), {kind_name(r.kind), r.bu, r.who, r.field, r.value ? "1" : "0",
                                   t.ts, t.iso, r.extra});
    }
    return c;
  }

  // Every call in one pipeline; calls a node did not know the script for go again once it
  // has loaded it (a node restarted, failed over or was flushed since).
  Status send() {
    if (calls_.empty()) return {};
    std::string sha;
    {
      std::lock_guard lock(sha_mutex);
      sha = sha_cache;
    }
    if (sha.empty()) {
      auto loaded = load(redis_, text_[calls_.front().rows.front()].key);
      if (!loaded) return fail(loaded.error());
      sha = *loaded;
    }
    std::vector<std::size_t> pending(calls_.size());
    for (std::size_t i = 0; i < pending.size(); ++i) pending[i] = i;
    // Each round teaches at least one more node the script; a cluster has few nodes.
    for (int round = 0; round < 16 && !pending.empty(); ++round) {
      std::vector<RedisRouter::Command> commands;
      commands.reserve(pending.size());
      for (std::size_t c : pending) commands.push_back(command(calls_[c], sha));
      std::vector<RedisReplyPtr> replies;
      if (!redis_.pipeline(commands, replies)) return fail(redis_.error());
      std::vector<std::size_t> again;
      for (std::size_t n = 0; n < pending.size(); ++n) {
        const redisReply* r = replies[n].get();
        if (is_noscript(r)) {
          again.push_back(pending[n]);
          continue;
        }
        if (auto taken = take(calls_[pending[n]], r); !taken) return taken;
      }
      if (!again.empty()) {
        auto loaded = load(redis_, text_[calls_[again.front()].rows.front()].key);
        if (!loaded) return fail(loaded.error());
      }
      pending = std::move(again);
    }
    if (!pending.empty()) return fail("import script: a node keeps answering NOSCRIPT");
    return {};
  }

  Status take(const Call& call, const redisReply* r) {
    if (r->type != REDIS_REPLY_ARRAY || r->elements != call.rows.size()) {
      return fail("import script: " + describe_reply(r));
    }
    for (std::size_t n = 0; n < call.rows.size(); ++n) {
      const redisReply* e = r->element[n];
      if (e->type != REDIS_REPLY_INTEGER || e->integer < 0 || e->integer > 3) {
        return fail("import script: " + describe_reply(e));
      }
      outcomes_[call.rows[n]] = static_cast<ImportOutcome>(e->integer);
    }
    return {};
  }

  RedisRouter& redis_;
  const KeySchema keys_;
  const std::vector<ImportWrite>& rows_;
  std::vector<RowText> text_;
  std::vector<ImportOutcome> outcomes_;
  std::vector<Call> calls_;
  const std::string dry_, horizon_, keep_, received_;
};

}  // namespace

Result<std::vector<ImportOutcome>> run_import_batch(RedisRouter& redis, const RedisConfig& config,
                                                    const std::vector<ImportWrite>& rows,
                                                    const ImportBatchOptions& options) {
  return Batch(redis, config, rows, options).run();
}

std::vector<std::string> import_script_sources() {
  return {std::string(kScript)};
}

}  // namespace gk

#include "gatekeeper/management/bulk.h"

#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <map>

#include "common/redis/cluster_slots.h"
#include "common/rules/address.h"
#include "common/rules/optout_record.h"
#include "common/store/keys.h"

namespace gk {

namespace {

// KEYS[1] the hash; ARGV value field, stamp field, value, ts, dry ('1'), [reason field, reason].
// Returns 0 when an equal-or-newer... no: when a newer change is stored (not applied),
// 1 applied without a change, 2 applied with a change. Equal times apply, as elsewhere.
constexpr std::string_view kImportScript = R"lua(
local key, vf, tf, value, ts_text, dry = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local stamp = tonumber(redis.call('HGET', key, tf) or '0') or 0
if tonumber(ts_text) < stamp then return 0 end
local changed = redis.call('HGET', key, vf) ~= value
if ARGV[6] then changed = changed or redis.call('HGET', key, ARGV[6]) ~= ARGV[7] end
if dry ~= '1' then
  redis.call('HSET', key, vf, value, tf, ts_text)
  if ARGV[6] then redis.call('HSET', key, ARGV[6], ARGV[7]) end
end
if changed then return 2 end
return 1
)lua";

std::string sha1_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  (void)EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

struct Row {
  std::string key;
  std::string value_field;
  std::string stamp_field;
  std::string value;
  std::string ts;
  std::string reason;  // addresses only
  bool address = false;
};

bool parse_ts(std::string_view s) {
  if (s.empty()) return false;
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && v >= 0;
}

}  // namespace

BulkService::BulkService(const Config& config, const ChannelRegistry& channels,
                         StatusService& status, StoreLink& store)
    : config_(config), channels_(channels), status_(status), store_(store) {}

std::optional<BulkService::ImportResult> BulkService::import(std::string_view csv, bool dry_run,
                                                             std::string& error) {
  ImportResult result;
  std::vector<Row> rows;
  std::vector<std::size_t> row_index;
  std::vector<std::string> cols;
  const std::string& prefix = config_.redis.key_prefix;
  std::size_t index = 0;
  while (!csv.empty()) {
    const std::size_t nl = csv.find('\n');
    const std::string_view line = csv.substr(0, nl);
    csv = nl == std::string_view::npos ? std::string_view() : csv.substr(nl + 1);
    const std::size_t i = index++;
    ++result.rows;
    auto fail = [&](std::string why) { result.errors.push_back({i, std::move(why)}); };
    if (!split_csv(line, cols)) {
      fail("a quoted field is not closed");
      continue;
    }
    if (cols.size() != 7) {
      fail("expected 7 columns (" + std::string(kBulkHeader) + "), got " +
           std::to_string(cols.size()));
      continue;
    }
    const std::string &kind = cols[0], &bu = cols[1], &key = cols[2], &field = cols[3],
                      &value = cols[4], &ts = cols[5], &reason = cols[6];
    if (key.empty()) {
      fail("key is empty");
      continue;
    }
    if (value != "0" && value != "1") {
      fail("value must be 1 or 0, got '" + value + "'");
      continue;
    }
    if (!parse_ts(ts)) {
      fail("timestamp must be ms since the epoch, got '" + ts + "'");
      continue;
    }
    Row row;
    row.value = value;
    row.ts = ts;
    if (kind == "user" || kind == "lead") {
      std::string f;
      if (iequals(field, kAllChannel)) {
        f = kAllChannel;
      } else if (iequals(field, kBlacklistField)) {
        f = kBlacklistField;
      } else if (field.starts_with("topic:") && field.size() > 6) {
        f = field;
      } else if (const auto c = channels_.find_type(field)) {
        f = channels_.name(*c);
      } else {
        fail("unknown field '" + field + "' (a channel, ALL, BLACKLIST or topic:<name>)");
        continue;
      }
      if (kind == "user") {
        user_key(row.key, prefix, bu, key);
      } else {
        lead_key(row.key, prefix, bu, key);
      }
      row.value_field = f;
      row.stamp_field = f + ":ts";
    } else if (kind == "address") {
      const auto c = channels_.find_type(field);
      if (!c) {
        fail("unknown channel '" + field + "'");
        continue;
      }
      const std::string& channel = channels_.name(*c);
      std::string address;
      if (!normalize_address(channel, key, address)) {
        fail(address_problem(channel, key));
        continue;
      }
      const std::string r = reason.empty() ? std::string("manual") : reason;
      if (!parse_address_reason(r)) {
        fail("unknown reason '" + reason + "' (bounce, complaint, sms_stop, manual)");
        continue;
      }
      row.key = address_key(prefix, channel, address);
      row.value_field = "suppressed";
      row.stamp_field = "suppressed:ts";
      row.reason = r;
      row.address = true;
    } else {
      fail("unknown kind '" + kind + "' (user, lead or address)");
      continue;
    }
    rows.push_back(std::move(row));
    row_index.push_back(i);
  }
  if (rows.empty()) return result;
  // EVALSHA keeps the script text off the wire (a million rows would send it a million
  // times); a node that does not know it yet answers NOSCRIPT, and those rows go again with
  // EVAL, which teaches it.
  static const std::string sha = sha1_hex(kImportScript);
  std::vector<RedisRouter::Command> commands(rows.size());
  const std::string_view dry = dry_run ? "1" : "0";
  for (std::size_t n = 0; n < rows.size(); ++n) {
    const Row& r = rows[n];
    commands[n].key = r.key;
    commands[n].args = {"EVALSHA",     sha,     "1",  r.key, r.value_field,
                        r.stamp_field, r.value, r.ts, dry};
    if (r.address) {
      commands[n].args.push_back("reason");
      commands[n].args.push_back(r.reason);
    }
  }
  std::vector<RedisReplyPtr> replies;
  const bool ok = store_
                      .run(error,
                           [&](RedisRouter& redis, std::string& err) -> std::optional<bool> {
                             if (!redis.pipeline(commands, replies)) {
                               err = redis.error();
                               return std::nullopt;
                             }
                             std::vector<std::size_t> again;
                             for (std::size_t n = 0; n < replies.size(); ++n) {
                               const redisReply* r = replies[n].get();
                               if (r->type == REDIS_REPLY_ERROR &&
                                   std::string_view(r->str, r->len).starts_with("NOSCRIPT")) {
                                 again.push_back(n);
                               }
                             }
                             if (again.empty()) return true;
                             std::vector<RedisRouter::Command> retry;
                             for (std::size_t n : again) {
                               RedisRouter::Command c = commands[n];
                               c.args[0] = "EVAL";
                               c.args[1] = kImportScript;
                               retry.push_back(std::move(c));
                             }
                             std::vector<RedisReplyPtr> retried;
                             if (!redis.pipeline(retry, retried)) {
                               err = redis.error();
                               return std::nullopt;
                             }
                             for (std::size_t i = 0; i < again.size(); ++i) {
                               replies[again[i]] = std::move(retried[i]);
                             }
                             return true;
                           })
                      .has_value();
  if (!ok) return std::nullopt;
  for (std::size_t n = 0; n < rows.size(); ++n) {
    const redisReply* r = replies[n].get();
    if (r->type != REDIS_REPLY_INTEGER) {
      result.errors.push_back({row_index[n], "store: " + describe_reply(r)});
      continue;
    }
    if (r->integer >= 1) ++result.applied;
    if (r->integer == 2) ++result.changed;
  }
  if (!dry_run && result.changed > 0) {
    // One summary event per request rather than one per row: an import of millions of rows
    // would otherwise flood the stream subscribers and trim away every other event.
    SystemEvent e;
    e.event = "Import";
    e.timestamp = now_ms();
    e.source = "import";
    e.changed = true;
    e.properties = {{"rows", result.rows},
                    {"applied", result.applied},
                    {"changed", result.changed},
                    {"failed", result.errors.size()}};
    status_.publish(e);
  }
  return result;
}

std::optional<std::string> BulkService::export_csv(std::string& error) {
  const std::string& prefix = config_.redis.key_prefix;
  std::string out(kBulkHeader);
  out.push_back('\n');
  const bool ok =
      store_
          .run(
              error,
              [&](RedisRouter& redis, std::string& err) -> std::optional<bool> {
                for (const std::string& node : redis.primaries()) {
                  const auto address = parse_node_address(node);
                  auto conn = address ? RedisConnection::connect(store_.redis(), address->host,
                                                                 address->port, err)
                                      : nullptr;
                  if (!conn) return std::nullopt;
                  std::string cursor = "0";
                  std::string pattern;
                  for (char c : prefix) {
                    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
                      pattern.push_back('\\');
                    pattern.push_back(c);
                  }
                  pattern += "[ula]:*";
                  do {
                    auto reply = conn->command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
                    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
                      err =
                          node + ": SCAN: " + (reply ? describe_reply(reply.get()) : conn->error());
                      return std::nullopt;
                    }
                    cursor.assign(reply->element[0]->str, reply->element[0]->len);
                    const redisReply* keys = reply->element[1];
                    for (std::size_t i = 0; i < keys->elements; ++i) {
                      conn->append({"HGETALL", std::string_view(keys->element[i]->str,
                                                                keys->element[i]->len)});
                    }
                    for (std::size_t i = 0; i < keys->elements; ++i) {
                      auto hash = conn->get_reply();
                      if (!hash) {
                        err = conn->error();
                        return std::nullopt;
                      }
                      if (hash->type != REDIS_REPLY_ARRAY) continue;
                      const std::string_view key(keys->element[i]->str, keys->element[i]->len);
                      const std::string_view rest = key.substr(prefix.size() + 2);
                      const char kind = key[prefix.size()];
                      const std::size_t colon = rest.find(':');
                      if (colon == std::string_view::npos) continue;
                      std::map<std::string, std::string, std::less<>> fields;
                      for (std::size_t f = 0; f + 1 < hash->elements; f += 2) {
                        fields.emplace(
                            std::string(hash->element[f]->str, hash->element[f]->len),
                            std::string(hash->element[f + 1]->str, hash->element[f + 1]->len));
                      }
                      auto row = [&](std::string_view k, std::string_view bu, std::string_view who,
                                     std::string_view field, std::string_view value,
                                     std::string_view ts, std::string_view reason) {
                        append_csv(out, k);
                        out.push_back(',');
                        append_csv(out, bu);
                        out.push_back(',');
                        append_csv(out, who);
                        out.push_back(',');
                        append_csv(out, field);
                        out.push_back(',');
                        out.append(status_value_true(value) ? "1" : "0").push_back(',');
                        append_csv(out, ts.empty() ? std::string_view("0") : ts);
                        out.push_back(',');
                        append_csv(out, reason);
                        out.push_back('\n');
                      };
                      if (kind == 'a') {
                        const auto s = fields.find("suppressed");
                        if (s == fields.end()) continue;
                        const auto ts = fields.find("suppressed:ts");
                        const auto reason = fields.find("reason");
                        row("address", "", rest.substr(colon + 1), rest.substr(0, colon), s->second,
                            ts == fields.end() ? "" : ts->second,
                            reason == fields.end() ? "manual" : reason->second);
                        continue;
                      }
                      for (const auto& [field, value] : fields) {
                        if (field.ends_with(":ts")) continue;
                        const bool known = field == kAllChannel || field == kBlacklistField ||
                                           field.starts_with("topic:") ||
                                           channels_.find_type(field);
                        if (!known) continue;
                        const auto ts = fields.find(field + ":ts");
                        row(kind == 'u' ? "user" : "lead", rest.substr(0, colon),
                            rest.substr(colon + 1), field, value,
                            ts == fields.end() ? "" : ts->second, "");
                      }
                    }
                  } while (cursor != "0");
                }
                return true;
              })
          .has_value();
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace gk

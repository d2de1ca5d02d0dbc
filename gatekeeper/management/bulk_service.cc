#include "gatekeeper/management/bulk_service.h"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "common/protocol/events.h"
#include "common/redis/cluster_slots.h"
#include "common/rules/optout_record.h"
#include "common/rules/topics.h"
#include "common/store/erasure_hash.h"
#include "common/store/import_script.h"
#include "common/store/key_schema.h"
#include "common/util/csv.h"
#include "gatekeeper/management/bulk_rows.h"

namespace gk {

namespace {

constexpr std::string_view kImportSource = "import";
// Keys asked for per SCAN: a round trip per thousand keys, and a page near the size asked.
constexpr std::string_view kScanCount = "1000";
constexpr std::string_view kErasedRow = "erased: lift it with an explicit Opt In first";

std::string_view event_name(const BulkRow& row) {
  if (row.field == kBlacklistField) return row.value ? kBlacklistedEvent : kWhitelistedEvent;
  return row.value ? kOptOutEvent : kOptInEvent;
}

ImportWrite::Kind write_kind(BulkKind kind) {
  switch (kind) {
    case BulkKind::kUser:
      return ImportWrite::Kind::kUser;
    case BulkKind::kLead:
      return ImportWrite::Kind::kLead;
    case BulkKind::kAddress:
      return ImportWrite::Kind::kAddress;
  }
  return ImportWrite::Kind::kUser;
}

// The scope a system event names for a person's field, as change_now() sets it.
void set_scope(std::string_view field, std::string& channel, std::string& topic) {
  if (field.starts_with(kTopicFieldPrefix)) {
    topic = std::string(field.substr(kTopicFieldPrefix.size()));
  } else if (field != kBlacklistField) {
    channel = std::string(field);
  }
}

SystemEvent changed_event(const ImportWrite& w) {
  SystemEvent e;
  e.bu = w.bu;
  e.timestamp = w.ts;
  e.source = std::string(kImportSource);
  e.changed = true;
  if (w.kind == ImportWrite::Kind::kAddress) {
    e.event = std::string(w.value ? kAddressSuppressedEvent : kAddressUnsuppressedEvent);
    e.channel = w.field;
    e.address = w.who;
    e.reason = w.extra;
    return e;
  }
  e.event = w.extra;
  (w.kind == ImportWrite::Kind::kUser ? e.id : e.email) = w.who;
  set_scope(w.field, e.channel, e.topic);
  return e;
}

ChangeRequest change_of(const ImportWrite& w, EpochMs received) {
  ChangeRequest c;
  c.bu = w.bu;
  (w.kind == ImportWrite::Kind::kUser ? c.external_id : c.email) = w.who;
  c.field = w.field;
  c.value = w.value;
  c.ts = w.ts;
  c.received = received;
  c.source = std::string(kImportSource);
  c.event = w.extra;
  set_scope(w.field, c.channel, c.topic);
  return c;
}

std::string_view text_of(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING ? std::string_view(r->str, r->len) : std::string_view();
}

void append_row(std::string& out, std::string_view kind, std::string_view bu, std::string_view who,
                std::string_view field, bool value, std::string_view ts, std::string_view reason) {
  append_csv(out, kind);
  out.push_back(',');
  append_csv(out, bu);
  out.push_back(',');
  append_csv(out, who);
  out.push_back(',');
  append_csv(out, field);
  out.append(value ? ",1," : ",0,");
  // A missing or garbled time reads as 0 everywhere (the oldest), so it is written as 0.
  EpochMs t = 0;
  const auto [p, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), t);
  out.append(ec == std::errc() && p == ts.data() + ts.size() && t >= 0 ? ts : "0");
  out.push_back(',');
  append_csv(out, reason);
  out.push_back('\n');
}

// The value of `field` in a flat HGETALL reply; "" when absent.
std::string_view field_of(const redisReply* hash, std::string_view field) {
  for (std::size_t i = 0; i + 1 < hash->elements; i += 2) {
    if (text_of(hash->element[i]) == field) return text_of(hash->element[i + 1]);
  }
  return {};
}

// Which of `rows` name an erased identifier (PROTOCOL.md 13: a user's external id, a lead's
// email, an address), by the tombstone the erasure service leaves: one EXISTS per distinct
// identifier, all in one pipelined round per batch (an export names a person once per field).
Result<std::vector<bool>> erased_rows(RedisRouter& redis, const KeySchema& keys,
                                      std::string_view salt, const std::vector<ImportWrite>& rows) {
  const TombstoneHasher hasher(salt);
  std::vector<std::string> names;  // distinct tombstone keys, probed in this order
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::size_t> probe_of(rows.size());
  std::string key;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ImportWrite& w = rows[i];
    const TombstoneId id = w.kind == ImportWrite::Kind::kUser   ? hasher.user(w.bu, w.who)
                           : w.kind == ImportWrite::Kind::kLead ? hasher.address("MAIL", w.who)
                                                                : hasher.address(w.field, w.who);
    keys.tombstone(key, TombstoneHasher::hex(id));
    const auto [at, added] = index.try_emplace(key, names.size());
    if (added) names.push_back(key);
    probe_of[i] = at->second;
  }
  std::vector<RedisRouter::Command> probes;
  probes.reserve(names.size());
  for (const std::string& name : names) probes.push_back({name, {"EXISTS", name}});
  std::vector<RedisReplyPtr> replies;
  if (!redis.pipeline(probes, replies)) return fail(redis.error());
  std::vector<bool> erased(rows.size(), false);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const redisReply* r = replies[probe_of[i]].get();
    if (r->type != REDIS_REPLY_INTEGER) return fail("EXISTS: " + describe_reply(r));
    erased[i] = r->integer > 0;
  }
  return erased;
}

}  // namespace

Result<BulkService::ImportResult> BulkService::import(std::string_view csv, bool dry_run) {
  ImportResult result;
  const EpochMs now = now_ms();
  std::vector<ImportWrite> writes;
  std::vector<std::size_t> lines;  // of each write
  BulkRow row;
  std::vector<std::string> scratch;
  std::size_t line_no = 0;
  while (!csv.empty()) {
    const std::size_t nl = csv.find('\n');
    std::string_view line = csv.substr(0, nl);
    csv = nl == std::string_view::npos ? std::string_view() : csv.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (line_no == 1 && line == kBulkHeader)) continue;
    ++result.rows;
    if (auto error = parse_bulk_row(line, channels_, row, scratch); !error.empty()) {
      result.errors.push_back({line_no, std::move(error)});
      continue;
    }
    ImportWrite w;
    w.kind = write_kind(row.kind);
    w.bu = std::move(row.bu);
    w.who = std::move(row.who);
    w.field = std::move(row.field);
    w.value = row.value;
    bool clamped = false;
    w.ts = clamp_change_time(row.ts, now, now, config_.changes.max_future_ms, clamped);
    result.clamped += clamped ? 1 : 0;
    w.extra = row.kind == BulkKind::kAddress ? std::move(row.reason) : std::string(event_name(row));
    writes.push_back(std::move(w));
    lines.push_back(line_no);
  }
  if (writes.empty()) return result;

  std::vector<ImportOutcome> outcomes;
  ImportBatchOptions options;
  options.dry_run = dry_run;
  options.horizon = now + config_.changes.max_future_ms;
  options.received = now;
  auto ran = status_.with_store("import", [&](RedisRouter& redis) -> Status {
    if (config_.erasure.enabled()) {
      // Only an explicit Opt In lifts an erasure; an old export must not bring them back.
      auto erased = erased_rows(redis, KeySchema(config_.redis), config_.erasure.salt, writes);
      if (!erased) return fail(erased.error());
      std::size_t kept = 0;
      for (std::size_t i = 0; i < writes.size(); ++i) {
        if ((*erased)[i]) {
          result.errors.push_back({lines[i], std::string(kErasedRow)});
          continue;
        }
        if (kept != i) {
          writes[kept] = std::move(writes[i]);
          lines[kept] = lines[i];
        }
        ++kept;
      }
      // Both, in step: this may run again on a fresh link.
      writes.resize(kept);
      lines.resize(kept);
      // In line order, as a reader of the report expects.
      std::stable_sort(result.errors.begin(), result.errors.end(),
                       [](const RowError& a, const RowError& b) { return a.line < b.line; });
      if (writes.empty()) return {};
    }
    auto out = run_import_batch(redis, config_.redis, writes, options);
    if (!out) return fail(out.error());
    outcomes = std::move(out).value();
    return {};
  });
  if (!ran) return fail(ran.error());

  std::vector<SystemEvent> events;
  std::vector<std::size_t> linked;
  std::uint64_t batch_rows = 0, batch_changed = 0;
  for (std::size_t i = 0; i < writes.size(); ++i) {
    switch (outcomes[i]) {
      case ImportOutcome::kOlder:
        ++batch_rows;
        break;
      case ImportOutcome::kSame:
        ++batch_rows;
        ++result.applied;
        break;
      case ImportOutcome::kChanged:
        ++batch_rows;
        ++batch_changed;
        ++result.applied;
        ++result.changed;
        if (!dry_run) events.push_back(changed_event(writes[i]));
        break;
      case ImportOutcome::kLinked:
        linked.push_back(i);
        break;
    }
  }
  if (!dry_run) {
    // Published before the linked rows are tried: these changes are stored whatever
    // happens to those.
    status_.count_changes(kImportSource, batch_changed, batch_rows - batch_changed);
    status_.publish_all(events);
  }
  for (std::size_t i : linked) {
    // A person with a link: the status write links, merges and reaches every record of
    // theirs; rare in an import, so one at a time is fine.
    auto applied = status_.apply(change_of(writes[i], now));
    if (!applied) return fail(applied.error());
    result.applied += applied->write.applied ? 1 : 0;
    result.changed += applied->write.changed ? 1 : 0;
  }
  return result;
}

Result<BulkService::ExportPage> BulkService::export_page(std::string_view cursor,
                                                         std::size_t rows) {
  // "<primary index>-<SCAN cursor on it>"; primaries in name order.
  std::size_t node = 0;
  std::string scan = "0";
  if (!cursor.empty() && cursor != "0") {
    const std::size_t dash = cursor.find('-');
    const std::string_view head = cursor.substr(0, dash);
    const auto [p, ec] = std::from_chars(head.data(), head.data() + head.size(), node);
    const std::string_view rest =
        dash == std::string_view::npos ? std::string_view() : cursor.substr(dash + 1);
    if (ec != std::errc() || p != head.data() + head.size() || rest.empty() ||
        rest.find_first_not_of("0123456789") != std::string_view::npos) {
      return fail("bad cursor '" + std::string(cursor.substr(0, 40)) +
                  "': pass the X-Export-Cursor of the previous page");
    }
    scan = std::string(rest);
  }
  ExportPage page;
  if (cursor.empty() || cursor == "0") {
    page.csv.append(kBulkHeader);
    page.csv.push_back('\n');
  }
  const KeySchema keys(config_.redis);
  const std::string pattern = key_prefix_pattern(keys.prefix());
  std::size_t produced = 0;
  std::size_t node_count = 0;
  auto ran = status_.with_store("export", [&](RedisRouter& redis) -> Status {
    std::vector<std::string> nodes = redis.primaries();
    std::sort(nodes.begin(), nodes.end());
    node_count = nodes.size();
    RedisConnection::Ptr conn;
    std::size_t conn_node = nodes.size();
    while (node < nodes.size() && produced < rows) {
      const std::vector<std::string_view> args = {"SCAN",  scan,    "MATCH",
                                                  pattern, "COUNT", kScanCount};
      RedisReplyPtr reply;
      if (redis.cluster()) {
        if (conn_node != node) {
          const auto address = parse_node_address(nodes[node]);
          if (!address) return fail("export: bad node address " + nodes[node]);
          auto c = RedisConnection::connect(config_.redis, address->host, address->port);
          if (!c) return fail(c.error());
          conn = std::move(c).value();
          conn_node = node;
        }
        reply = conn->command(args);
        if (!reply) return fail(nodes[node] + ": SCAN: " + conn->error());
      } else {
        reply = redis.command(std::string_view(), args);
        if (!reply) return fail(redis.error());
      }
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        return fail(nodes[node] + ": SCAN: " + describe_reply(reply.get()));
      }
      scan = std::string(text_of(reply->element[0]));
      const redisReply* found = reply->element[1];
      std::vector<RedisRouter::Command> reads;
      for (std::size_t i = 0; i < found->elements; ++i) {
        const std::string_view key = text_of(found->element[i]);
        if (key.starts_with(keys.user_prefix()) || key.starts_with(keys.lead_prefix()) ||
            key.starts_with(keys.address_prefix())) {
          reads.push_back({key, {"HGETALL", key}});
        }
      }
      std::vector<RedisReplyPtr> hashes;
      if (!reads.empty() && !redis.pipeline(reads, hashes)) return fail(redis.error());
      for (std::size_t i = 0; i < reads.size(); ++i) {
        const redisReply* hash = hashes[i].get();
        if (hash->type != REDIS_REPLY_ARRAY) continue;  // not a hash: not ours to export
        const std::string_view key = reads[i].key;
        const bool address = key.starts_with(keys.address_prefix());
        const bool user = key.starts_with(keys.user_prefix());
        const std::string_view rest = key.substr((address ? keys.address_prefix()
                                                  : user  ? keys.user_prefix()
                                                          : keys.lead_prefix())
                                                     .size());
        const std::size_t colon = rest.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view first = rest.substr(0, colon), second = rest.substr(colon + 1);
        if (address) {
          const std::string_view suppressed = field_of(hash, "suppressed");
          if (suppressed.empty()) continue;
          append_row(page.csv, "address", "", second, first, status_value_true(suppressed),
                     field_of(hash, "suppressed:ts"), field_of(hash, "reason"));
          ++produced;
          continue;
        }
        std::string stamp;
        for (std::size_t f = 0; f + 1 < hash->elements; f += 2) {
          const std::string_view field = text_of(hash->element[f]);
          if (field.ends_with(":ts")) continue;
          const bool known =
              field == kAllChannel || field == kBlacklistField ||
              (field.starts_with(kTopicFieldPrefix) && field.size() > kTopicFieldPrefix.size()) ||
              channels_.find_type(field).has_value();
          if (!known) continue;
          stamp.assign(field).append(":ts");
          append_row(page.csv, user ? "user" : "lead", first, second, field,
                     status_value_true(text_of(hash->element[f + 1])), field_of(hash, stamp), "");
          ++produced;
        }
      }
      if (scan == "0") ++node;
    }
    return {};
  });
  if (!ran) return fail(ran.error());
  if (node < node_count) page.cursor = std::to_string(node) + "-" + scan;
  return page;
}

}  // namespace gk

#include "gatekeeper/management/erasure.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "common/rules/address.h"
#include "common/store/erasure_hash.h"
#include "common/store/keys.h"
#include "common/util/timestamp.h"

namespace gk {

namespace {

std::string text(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len)
                                                       : std::string();
}

// Whether `value` is one of the identifiers, as written anywhere: any case, phone numbers
// with separators. Exact, so erasing "kim" leaves "kimberly" alone.
bool names_one(std::string_view value, const std::set<std::string>& needles) {
  if (needles.count(std::string(value)) != 0) return true;
  const std::string lower = lower_email(value);
  if (needles.count(lower) != 0) return true;
  std::string bare;
  for (char c : value) {
    if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')' && c != '[' && c != ']') {
      bare.push_back(c);
    }
  }
  return needles.count(bare) != 0;
}

// Every string inside a JSON value (the `properties` of a stream entry).
bool json_names_one(const nlohmann::json& j, const std::set<std::string>& needles) {
  if (j.is_string()) return names_one(j.get_ref<const std::string&>(), needles);
  if (j.is_structured()) {
    for (const auto& item : j) {
      if (json_names_one(item, needles)) return true;
    }
  }
  return false;
}

// Deletes every entry of the stream that names one of `needles` in a field or a string of
// its `properties`. Returns the number deleted; nullopt on a store failure.
std::optional<std::size_t> purge_stream(RedisRouter& redis, const std::string& stream,
                                        const std::set<std::string>& needles, std::string& error) {
  std::size_t deleted = 0;
  std::string start = "-";
  while (true) {
    auto reply = redis.command(stream, {"XRANGE", stream, start, "+", "COUNT", "1000"});
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
      error = reply ? "XRANGE: " + describe_reply(reply.get()) : redis.error();
      return std::nullopt;
    }
    if (reply->elements == 0) return deleted;
    std::vector<std::string> doomed;
    std::string last;
    for (std::size_t i = 0; i < reply->elements; ++i) {
      const redisReply* entry = reply->element[i];
      if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) continue;
      last = text(entry->element[0]);
      const redisReply* fields = entry->element[1];
      bool names = false;
      for (std::size_t f = 0; f + 1 < fields->elements && !names; f += 2) {
        const std::string field = text(fields->element[f]);
        const std::string value = text(fields->element[f + 1]);
        if (field == "properties") {
          const auto j = nlohmann::json::parse(value, nullptr, false);
          names = j.is_discarded() ? names_one(value, needles) : json_names_one(j, needles);
        } else {
          names = names_one(value, needles);
        }
      }
      if (names) doomed.push_back(last);
    }
    if (!doomed.empty()) {
      std::vector<std::string_view> args = {"XDEL", stream};
      for (const std::string& id : doomed) args.push_back(id);
      auto del = redis.command(stream, args);
      if (!del || del->type != REDIS_REPLY_INTEGER) {
        error = del ? "XDEL: " + describe_reply(del.get()) : redis.error();
        return std::nullopt;
      }
      deleted += static_cast<std::size_t>(del->integer);
    }
    if (reply->elements < 1000) return deleted;
    start = "(" + last;
  }
}

}  // namespace

ErasureService::ErasureService(const Config& config, StoreLink& store)
    : config_(config), salt_(config.erasure.salt), store_(store) {}

std::optional<ErasureService::Result> ErasureService::erase_user(
    const std::string& bu, const std::string& external_id, std::vector<std::string> emails,
    const std::vector<std::string>& phones, std::string& error) {
  return erase(bu, external_id, std::move(emails), phones, error);
}

std::optional<ErasureService::Result> ErasureService::erase_lead(
    const std::string& bu, const std::string& email, const std::vector<std::string>& phones,
    std::string& error) {
  return erase(bu, "", {email}, phones, error);
}

std::optional<ErasureService::Result> ErasureService::erase(const std::string& bu,
                                                            const std::string& external_id,
                                                            std::vector<std::string> emails,
                                                            std::vector<std::string> phones,
                                                            std::string& error) {
  const std::string& prefix = config_.redis.key_prefix;
  const bool cluster = !config_.redis.cluster.empty();
  return store_.run(error, [&](RedisRouter& redis, std::string& err) -> std::optional<Result> {
    Result result;
    std::vector<std::string> keys;
    std::set<std::string> mails;
    for (const std::string& e : emails) {
      std::string n;
      if (normalize_address("MAIL", e, n)) mails.insert(n);
    }
    std::set<std::string> tombstones;
    if (!external_id.empty()) {
      const std::string linked = linked_emails_key(prefix, bu, external_id);
      auto members = redis.command(linked, {"SMEMBERS", linked});
      if (!members || members->type != REDIS_REPLY_ARRAY) {
        err = members ? "SMEMBERS: " + describe_reply(members.get()) : redis.error();
        return std::nullopt;
      }
      for (std::size_t i = 0; i < members->elements; ++i) {
        mails.insert(lower_email(text(members->element[i])));
      }
      std::string k;
      user_key(k, prefix, bu, external_id);
      keys.push_back(k);
      keys.push_back(history_key(prefix, cluster, false, bu, external_id));
      keys.push_back(linked);
      tombstones.insert(tombstone_of_user(salt_, bu, external_id));
    }
    for (const std::string& mail : mails) {
      std::string k;
      link_key(k, prefix, bu, mail);
      // A lead linked to someone else: drop it from that user's set of e-mails too.
      auto owner = redis.command(k, {"GET", k});
      if (!owner) {
        err = redis.error();
        return std::nullopt;
      }
      const std::string other = text(owner.get());
      if (!other.empty() && other != external_id) {
        const std::string set = linked_emails_key(prefix, bu, other);
        (void)redis.command(set, {"SREM", set, mail});
      }
      keys.push_back(k);
      lead_key(k, prefix, bu, mail);
      keys.push_back(k);
      keys.push_back(history_key(prefix, cluster, true, bu, mail));
      keys.push_back(address_key(prefix, "MAIL", mail));
      tombstones.insert(tombstone_of_address(salt_, "MAIL", mail));
    }
    std::set<std::string> numbers;
    for (const std::string& p : phones) {
      std::string n;
      if (normalize_address("SMS", p, n)) numbers.insert(n);
    }
    for (const std::string& n : numbers) {
      keys.push_back(address_key(prefix, "SMS", n));
      tombstones.insert(tombstone_of_address(salt_, "SMS", n));
    }
    // Tombstones first: from now on nothing reaches them, even before the records are gone.
    const std::string now = std::to_string(now_ms());
    for (const std::string& t : tombstones) {
      const std::string key = tombstone_key(prefix, t);
      auto r = redis.command(key, {"HSET", key, "erased:ts", now});
      if (!r || r->type == REDIS_REPLY_ERROR) {
        err = r ? "HSET: " + describe_reply(r.get()) : redis.error();
        return std::nullopt;
      }
      ++result.tombstones;
    }
    for (const std::string& key : keys) {
      auto r = redis.command(key, {"DEL", key});
      if (!r || r->type != REDIS_REPLY_INTEGER) {
        err = r ? "DEL: " + describe_reply(r.get()) : redis.error();
        return std::nullopt;
      }
      result.keys_deleted += static_cast<std::size_t>(r->integer);
    }
    std::set<std::string> needles(mails.begin(), mails.end());
    needles.insert(numbers.begin(), numbers.end());
    if (!external_id.empty()) needles.insert(external_id);
    const auto purged = purge_stream(redis, prefix + "events", needles, err);
    if (!purged) return std::nullopt;
    result.stream_entries_deleted = *purged;
    return result;
  });
}

std::optional<bool> ErasureService::user_erased(const std::string& bu,
                                                const std::string& external_id,
                                                std::string& error) {
  if (!enabled()) return false;
  const std::string key =
      tombstone_key(config_.redis.key_prefix, tombstone_of_user(salt_, bu, external_id));
  return store_.run(error, [&](RedisRouter& redis, std::string& err) -> std::optional<bool> {
    auto r = redis.command(key, {"EXISTS", key});
    if (!r || r->type != REDIS_REPLY_INTEGER) {
      err = r ? describe_reply(r.get()) : redis.error();
      return std::nullopt;
    }
    return r->integer > 0;
  });
}

std::optional<bool> ErasureService::email_erased(const std::string& email, std::string& error) {
  if (!enabled()) return false;
  std::string n;
  (void)normalize_address("MAIL", email, n);
  const std::string key =
      tombstone_key(config_.redis.key_prefix, tombstone_of_address(salt_, "MAIL", n));
  return store_.run(error, [&](RedisRouter& redis, std::string& err) -> std::optional<bool> {
    auto r = redis.command(key, {"EXISTS", key});
    if (!r || r->type != REDIS_REPLY_INTEGER) {
      err = r ? describe_reply(r.get()) : redis.error();
      return std::nullopt;
    }
    return r->integer > 0;
  });
}

std::optional<bool> ErasureService::lift(const Identity& who, std::string& error) {
  if (!enabled()) return false;
  std::vector<std::string> keys;
  const std::string& prefix = config_.redis.key_prefix;
  if (!who.external_id.empty()) {
    keys.push_back(tombstone_key(prefix, tombstone_of_user(salt_, who.bu, who.external_id)));
  }
  std::string n;
  if (!who.email.empty() && normalize_address("MAIL", who.email, n)) {
    keys.push_back(tombstone_key(prefix, tombstone_of_address(salt_, "MAIL", n)));
  }
  return store_.run(error, [&](RedisRouter& redis, std::string& err) -> std::optional<bool> {
    bool any = false;
    for (const std::string& key : keys) {
      auto r = redis.command(key, {"DEL", key});
      if (!r || r->type != REDIS_REPLY_INTEGER) {
        err = r ? describe_reply(r.get()) : redis.error();
        return std::nullopt;
      }
      any = any || r->integer > 0;
    }
    return any;
  });
}

}  // namespace gk

#include "gatekeeper/management/erasure_service.h"

#include <set>

#include <nlohmann/json.hpp>

#include "common/rules/address.h"
#include "common/rules/identity.h"
#include "common/util/timestamp.h"

namespace gk {

namespace {

constexpr std::size_t kStreamPage = 1000;

std::string text(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len)
                                                       : std::string();
}

Error reply_error(RedisRouter& redis, const char* what, const RedisReplyPtr& r) {
  return fail(r ? std::string(what) + ": " + describe_reply(r.get()) : redis.error());
}

// Whether `value` is one of the identifiers as written anywhere: any case, a phone number
// with separators. Whole values only, so erasing "kim" leaves "kimberly" alone.
bool names_one(std::string_view value, const std::set<std::string, std::less<>>& needles) {
  if (needles.contains(value)) return true;
  if (needles.contains(normalize_email(value))) return true;
  std::string phone;
  return normalize_address("SMS", value, phone) && needles.contains(phone);
}

// Any string inside a JSON value (the `properties` of a stream entry, a history entry).
bool json_names_one(const nlohmann::json& j, const std::set<std::string, std::less<>>& needles) {
  if (j.is_string()) return names_one(j.get_ref<const std::string&>(), needles);
  if (j.is_structured()) {
    for (const auto& item : j) {
      if (json_names_one(item, needles)) return true;
    }
  }
  return false;
}

bool text_names_one(std::string_view value, const std::set<std::string, std::less<>>& needles) {
  const auto j = nlohmann::json::parse(value, nullptr, false);
  return j.is_discarded() ? names_one(value, needles) : json_names_one(j, needles);
}

// Deletes every entry of the stream naming one of `needles` in a field or in a string of its
// `properties`; the number deleted.
Result<std::size_t> purge_stream(RedisRouter& redis, const std::string& stream,
                                 const std::set<std::string, std::less<>>& needles) {
  std::size_t deleted = 0;
  std::string start = "-";
  const std::string page = std::to_string(kStreamPage);
  while (true) {
    auto reply = redis.command(stream, {"XRANGE", stream, start, "+", "COUNT", page});
    if (!reply || reply->type != REDIS_REPLY_ARRAY) return reply_error(redis, "XRANGE", reply);
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
        names = text_names_one(text(fields->element[f + 1]), needles);
      }
      if (names) doomed.push_back(last);
    }
    if (!doomed.empty()) {
      std::vector<std::string_view> args = {"XDEL", stream};
      for (const std::string& id : doomed) args.push_back(id);
      auto del = redis.command(stream, args);
      if (!del || del->type != REDIS_REPLY_INTEGER) return reply_error(redis, "XDEL", del);
      deleted += static_cast<std::size_t>(del->integer);
    }
    if (reply->elements < kStreamPage || last.empty()) return deleted;
    start = "(" + last;
  }
}

// Deletes the entries of a history list that name one of `needles`.
Result<std::size_t> purge_list(RedisRouter& redis, const std::string& key,
                               const std::set<std::string, std::less<>>& needles) {
  auto reply = redis.command(key, {"LRANGE", key, "0", "-1"});
  if (!reply || reply->type != REDIS_REPLY_ARRAY) return reply_error(redis, "LRANGE", reply);
  std::size_t deleted = 0;
  for (std::size_t i = 0; i < reply->elements; ++i) {
    const std::string entry = text(reply->element[i]);
    if (!text_names_one(entry, needles)) continue;
    auto del = redis.command(key, {"LREM", key, "0", entry});
    if (!del || del->type != REDIS_REPLY_INTEGER) return reply_error(redis, "LREM", del);
    deleted += static_cast<std::size_t>(del->integer);
  }
  return deleted;
}

}  // namespace

ErasureService::ErasureService(const Config& config, SharedRouter& store)
    : salt_(config.erasure.salt), keys_(config.redis), store_(store) {}

std::string ErasureService::user_tombstone(std::string_view bu,
                                           std::string_view external_id) const {
  std::string key;
  keys_.tombstone(key, tombstone_of_user(salt_, bu, external_id));
  return key;
}

std::string ErasureService::address_tombstone(std::string_view channel,
                                              std::string_view address) const {
  std::string key;
  keys_.tombstone(key, tombstone_of_address(salt_, channel, address));
  return key;
}

Result<ErasureService::Erased> ErasureService::erase_user(const std::string& bu,
                                                          const std::string& external_id,
                                                          const std::vector<std::string>& emails,
                                                          const std::vector<std::string>& phones) {
  return erase(bu, external_id, emails, phones);
}

Result<ErasureService::Erased> ErasureService::erase_lead(const std::string& bu,
                                                          const std::string& email,
                                                          const std::vector<std::string>& phones) {
  return erase(bu, "", {email}, phones);
}

Result<ErasureService::Erased> ErasureService::erase(const std::string& bu,
                                                     const std::string& external_id,
                                                     std::vector<std::string> emails,
                                                     const std::vector<std::string>& phones) {
  if (!enabled()) return fail("erasure needs erasure.salt in the config");
  return store_.run([&](RedisRouter& redis) -> Result<Erased> {
    Erased result;
    std::vector<std::string> doomed;
    std::set<std::string, std::less<>> mails;
    for (const std::string& e : emails) {
      std::string n;
      if (normalize_address("MAIL", e, n)) mails.insert(n);
    }
    std::set<std::string> tombstones;
    std::string key;
    if (!external_id.empty()) {
      const std::string linked = keys_.linked_emails(bu, external_id);
      auto members = redis.command(linked, {"SMEMBERS", linked});
      if (!members || members->type != REDIS_REPLY_ARRAY) {
        return reply_error(redis, "SMEMBERS", members);
      }
      for (std::size_t i = 0; i < members->elements; ++i) {
        mails.insert(normalize_email(text(members->element[i])));
      }
      keys_.user(key, bu, external_id);
      doomed.push_back(key);
      doomed.push_back(keys_.history(false, bu, external_id));
      doomed.push_back(linked);
      tombstones.insert(user_tombstone(bu, external_id));
    }
    // Users an erased email was linked to (other than this one): their set of emails and
    // history must lose it too.
    std::set<std::string> other_users;
    for (const std::string& mail : mails) {
      keys_.link(key, bu, mail);
      auto owner = redis.command(key, {"GET", key});
      if (!owner) return fail(redis.error());
      const std::string other = text(owner.get());
      if (!other.empty() && other != external_id) {
        other_users.insert(other);
        const std::string set = keys_.linked_emails(bu, other);
        auto removed = redis.command(set, {"SREM", set, mail});
        if (!removed || removed->type == REDIS_REPLY_ERROR) {
          return reply_error(redis, "SREM", removed);
        }
      }
      doomed.push_back(key);
      keys_.lead(key, bu, mail);
      doomed.push_back(key);
      doomed.push_back(keys_.history(true, bu, mail));
      keys_.address(key, "MAIL", mail);
      doomed.push_back(key);
      tombstones.insert(address_tombstone("MAIL", mail));
    }
    std::set<std::string, std::less<>> numbers;
    for (const std::string& p : phones) {
      std::string n;
      if (normalize_address("SMS", p, n)) numbers.insert(n);
    }
    for (const std::string& n : numbers) {
      keys_.address(key, "SMS", n);
      doomed.push_back(key);
      tombstones.insert(address_tombstone("SMS", n));
    }
    // Tombstones first: from now on no message reaches them, even before the records go.
    const std::string now = std::to_string(now_ms());
    for (const std::string& t : tombstones) {
      auto r = redis.command(t, {"HSET", t, "erased:ts", now});
      if (!r || r->type == REDIS_REPLY_ERROR) return reply_error(redis, "HSET", r);
      ++result.tombstones;
    }
    for (const std::string& k : doomed) {
      auto r = redis.command(k, {"DEL", k});
      if (!r || r->type != REDIS_REPLY_INTEGER) return reply_error(redis, "DEL", r);
      result.keys_deleted += static_cast<std::size_t>(r->integer);
    }
    std::set<std::string, std::less<>> needles(mails.begin(), mails.end());
    needles.insert(numbers.begin(), numbers.end());
    if (!external_id.empty()) needles.insert(external_id);
    for (const std::string& other : other_users) {
      const auto purged = purge_list(redis, keys_.history(false, bu, other), needles);
      if (!purged) return fail(purged.error());
      result.history_entries_deleted += *purged;
    }
    const auto purged = purge_stream(redis, keys_.events(), needles);
    if (!purged) return fail(purged.error());
    result.stream_entries_deleted = *purged;
    return result;
  });
}

Result<bool> ErasureService::exists(const std::string& key) {
  return store_.run([&](RedisRouter& redis) -> Result<bool> {
    auto r = redis.command(key, {"EXISTS", key});
    if (!r || r->type != REDIS_REPLY_INTEGER) return reply_error(redis, "EXISTS", r);
    return r->integer > 0;
  });
}

Result<bool> ErasureService::user_erased(std::string_view bu, std::string_view external_id) {
  if (!enabled()) return false;
  return exists(user_tombstone(bu, external_id));
}

Result<bool> ErasureService::email_erased(std::string_view email) {
  std::string n;
  if (!enabled() || !normalize_address("MAIL", email, n)) return false;
  return exists(address_tombstone("MAIL", n));
}

std::vector<std::string> ErasureService::tombstone_keys(std::string_view bu,
                                                        std::string_view external_id,
                                                        std::string_view email) const {
  std::vector<std::string> keys;
  if (!enabled()) return keys;
  if (!external_id.empty()) keys.push_back(user_tombstone(bu, external_id));
  std::string n;
  if (!email.empty() && normalize_address("MAIL", email, n)) {
    keys.push_back(address_tombstone("MAIL", n));
  }
  return keys;
}

Result<bool> ErasureService::lift(std::string_view bu, std::string_view external_id,
                                  std::string_view email) {
  const std::vector<std::string> doomed = tombstone_keys(bu, external_id, email);
  if (doomed.empty()) return false;
  return store_.run([&](RedisRouter& redis) -> Result<bool> {
    bool any = false;
    for (const std::string& key : doomed) {
      auto r = redis.command(key, {"DEL", key});
      if (!r || r->type != REDIS_REPLY_INTEGER) return reply_error(redis, "DEL", r);
      any = any || r->integer > 0;
    }
    return any;
  });
}

}  // namespace gk

#include "common/status_reader.h"

#include <limits>

#include "common/keys.h"

namespace gk {

namespace {

constexpr std::string_view kInvalidateChannel = "__redis__:invalidate";

bool is_message(const redisReply* r) {
  return r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
         r->element[0]->type == REDIS_REPLY_STRING &&
         std::string_view(r->element[0]->str, r->element[0]->len) == "message";
}

}  // namespace

StatusReader::StatusReader(const RedisConfig& redis, const CacheConfig& cache,
                           const ChannelRegistry& channels)
    : redis_(redis),
      cache_enabled_(cache.enabled),
      channels_(channels),
      cache_(cache.enabled ? cache.max_entries : 0),
      batch_(std::numeric_limits<std::size_t>::max()) {}

bool StatusReader::connect(std::string& error) {
  disconnect();
  auto lookup = RedisConnection::connect(redis_, error);
  if (!lookup) return false;
  if (cache_enabled_) {
    auto subscriber = RedisConnection::connect(redis_, error);
    if (!subscriber) return false;
    auto id = subscriber->command({"CLIENT", "ID"});
    if (!id || id->type != REDIS_REPLY_INTEGER) {
      error = "CLIENT ID: " + (id ? describe_reply(id.get()) : subscriber->error());
      return false;
    }
    auto sub = subscriber->command({"SUBSCRIBE", kInvalidateChannel});
    if (!sub || sub->type != REDIS_REPLY_ARRAY) {
      error = "SUBSCRIBE: " + (sub ? describe_reply(sub.get()) : subscriber->error());
      return false;
    }
    const std::string id_text = std::to_string(id->integer);
    auto tracking = lookup->command({"CLIENT", "TRACKING", "on", "REDIRECT", id_text});
    if (!tracking || tracking->type == REDIS_REPLY_ERROR) {
      error = "CLIENT TRACKING: " + (tracking ? describe_reply(tracking.get()) : lookup->error());
      return false;
    }
    invalidations_ = std::move(subscriber);
  }
  lookup_ = std::move(lookup);
  return true;
}

void StatusReader::disconnect() noexcept {
  // Without the invalidation link nothing cached can be trusted any more.
  if (cache_.size() > 0) ++stats_.flushes;
  cache_.clear();
  lookup_.reset();
  invalidations_.reset();
}

int StatusReader::invalidation_fd() const noexcept {
  return invalidations_ ? invalidations_->fd() : -1;
}

bool StatusReader::drain_invalidations() {
  if (!invalidations_) return connected();
  if (!invalidations_->read_available()) {
    disconnect();
    return false;
  }
  while (auto reply = invalidations_->next_buffered_reply()) {
    if (!is_message(reply.get())) continue;
    const redisReply* keys = reply->element[2];
    if (keys->type == REDIS_REPLY_ARRAY) {
      for (std::size_t i = 0; i < keys->elements; ++i) {
        const redisReply* k = keys->element[i];
        if (k->type != REDIS_REPLY_STRING) continue;
        cache_.erase(std::string_view(k->str, k->len));
        ++stats_.invalidations;
      }
    } else {
      // A null key list means Redis flushed a database: everything may have changed.
      cache_.clear();
      ++stats_.flushes;
    }
  }
  if (!invalidations_->ok()) {
    disconnect();
    return false;
  }
  return true;
}

const CachedStatus* StatusReader::find(std::string_view key) const noexcept {
  if (const CachedStatus* s = batch_.find(key)) return s;
  return cache_.find(key);
}

bool StatusReader::resolve(const PersonRef& person, OptOutRecord& out) {
  out = OptOutRecord{};
  const std::string_view prefix = redis_.key_prefix;
  if (!person.user_id.empty()) {
    user_key(key_, prefix, person.bu, person.user_id);
    const CachedStatus* s = find(key_);
    if (s == nullptr) return ++stats_.misses, false;
    out |= s->record;
  }
  if (!person.email.empty()) {
    lead_key(key_, prefix, person.bu, person.email);
    const CachedStatus* lead = find(key_);
    if (lead == nullptr) return ++stats_.misses, false;
    out |= lead->record;
    link_key(key_, prefix, person.bu, person.email);
    const CachedStatus* link = find(key_);
    if (link == nullptr) return ++stats_.misses, false;
    if (!link->linked_user.empty() && link->linked_user != person.user_id) {
      user_key(key_, prefix, person.bu, link->linked_user);
      const CachedStatus* linked = find(key_);
      if (linked == nullptr) return ++stats_.misses, false;
      out |= linked->record;
    }
  }
  ++stats_.hits;
  return true;
}

void StatusReader::want_key(std::string_view key, std::string_view bu, bool link) {
  if (find(key) != nullptr) return;
  auto [it, inserted] = wanted_keys_.emplace(key);
  if (!inserted) return;
  wanted_.push_back({std::string(key), std::string(bu), link});
}

void StatusReader::want(const PersonRef& person) {
  const std::string_view prefix = redis_.key_prefix;
  if (!person.user_id.empty()) {
    user_key(key_, prefix, person.bu, person.user_id);
    want_key(key_, person.bu, false);
  }
  if (!person.email.empty()) {
    lead_key(key_, prefix, person.bu, person.email);
    want_key(key_, person.bu, false);
    link_key(key_, prefix, person.bu, person.email);
    if (const CachedStatus* link = find(key_)) {
      if (!link->linked_user.empty()) {
        user_key(key_, prefix, person.bu, link->linked_user);
        want_key(key_, person.bu, false);
      }
    } else {
      want_key(key_, person.bu, true);
    }
  }
}

bool StatusReader::fetch(std::string& error) {
  if (!lookup_) {
    error = "not connected";
    return false;
  }
  // Round one may reveal linked users, whose records round two reads.
  while (!wanted_.empty()) {
    std::vector<Wanted> round;
    round.swap(wanted_);
    wanted_keys_.clear();
    if (!fetch_round(round, error)) {
      wanted_.clear();
      wanted_keys_.clear();
      disconnect();
      return false;
    }
  }
  return true;
}

bool StatusReader::fetch_round(std::vector<Wanted>& round, std::string& error) {
  ++stats_.fetch_rounds;
  for (const Wanted& w : round) {
    if (w.link) {
      lookup_->append({"GET", w.key});
    } else {
      lookup_->append({"HGETALL", w.key});
    }
  }
  for (const Wanted& w : round) {
    RedisReplyPtr reply = lookup_->get_reply();
    if (!reply) {
      error = lookup_->error();
      return false;
    }
    CachedStatus value;
    if (w.link) {
      if (reply->type == REDIS_REPLY_STRING) {
        value.linked_user.assign(reply->str, reply->len);
      } else if (reply->type != REDIS_REPLY_NIL) {
        error = "GET " + w.key + ": " + describe_reply(reply.get());
        return false;
      }
    } else {
      if (reply->type != REDIS_REPLY_ARRAY) {
        // A key of the wrong type (another job's mistake) is an error, never "not opted out".
        error = "HGETALL " + w.key + ": " + describe_reply(reply.get());
        return false;
      }
      for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
        const redisReply* f = reply->element[i];
        const redisReply* v = reply->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
        apply_status_field(value.record, channels_, {f->str, f->len}, {v->str, v->len});
      }
    }
    ++stats_.keys_fetched;
    if (w.link && !value.linked_user.empty()) {
      std::string user;
      user_key(user, redis_.key_prefix, w.bu, value.linked_user);
      want_key(user, w.bu, false);
    }
    store(w.key, std::move(value));
  }
  return true;
}

void StatusReader::store(std::string_view key, CachedStatus value) {
  if (cache_enabled_) cache_.insert(key, value);
  batch_.insert(key, std::move(value));
}

void StatusReader::end_batch() noexcept {
  batch_.clear();
}

bool StatusReader::ping() {
  if (!lookup_) return false;
  auto reply = lookup_->command({"PING"});
  if (!reply || reply->type == REDIS_REPLY_ERROR) {
    disconnect();
    return false;
  }
  return true;
}

}  // namespace gk

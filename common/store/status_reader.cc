#include "common/store/status_reader.h"

#include <limits>

#include "common/rules/identity.h"

namespace gk {

StatusReader::StatusReader(const RedisConfig& redis, const CacheConfig& cache,
                           const ChannelRegistry& channels)
    : redis_(redis),
      keys_(redis),
      cache_enabled_(cache.enabled),
      channels_(channels),
      email_index_(redis, keys_),
      cache_(cache.enabled ? cache.max_entries : 0, cache.max_memory_mb << 20),
      batch_(std::numeric_limits<std::size_t>::max()) {}

const OptOutRecord* StatusReader::find_user(PersonKey key) const noexcept {
  if (const OptOutRecord* r = batch_.find_user(key)) return r;
  return cache_.find_user(key);
}

const OptOutRecord* StatusReader::find_lead(PersonKey key) const noexcept {
  for (const PersonCache* c : {&batch_, &cache_}) {
    if (const EmailEntry* e = c->find_email(key); e != nullptr && e->lead_known) return &e->lead;
  }
  return nullptr;
}

const std::string* StatusReader::find_link(PersonKey key) const noexcept {
  for (const PersonCache* c : {&batch_, &cache_}) {
    if (const EmailEntry* e = c->find_email(key); e != nullptr && e->link_known) {
      return &e->linked_user;
    }
  }
  return nullptr;
}

std::string_view StatusReader::normalized_email(const PersonRef& person, std::string& buffer) {
  if (person.email_normalized) return person.email;
  buffer.clear();
  append_normalized_email(buffer, person.email);
  return buffer;
}

PersonKey StatusReader::email_key(const PersonRef& person, std::string& buffer) {
  const std::string_view email = normalized_email(person, buffer);
  return {person.bu, email, person.email_normalized ? person.email_hash : 0};
}

void StatusReader::prefetch(const PersonRef& person) {
  if (!person.user_id.empty()) cache_.prefetch_user(user_key(person));
  if (!person.email.empty()) {
    const PersonKey email = email_key(person, prefetch_email_);
    if (!email_has_no_records(email)) cache_.prefetch_email(email);
  }
}

void StatusReader::prefetch_probe(const PersonRef& person) {
  if (!person.user_id.empty()) cache_.prefetch_user_probe(user_key(person));
  if (!person.email.empty()) {
    const PersonKey email = email_key(person, prefetch_email_);
    email_index_.prefetch(email);
    cache_.prefetch_email_probe(email);
  }
}

bool StatusReader::resolve(const PersonRef& person, OptOutRecord& out) {
  out = OptOutRecord{};
  if (!person.user_id.empty()) {
    const OptOutRecord* user = find_user(user_key(person));
    if (user == nullptr) return ++stats_.misses, false;
    out |= *user;
  }
  if (!person.email.empty()) {
    const PersonKey email = email_key(person, email_);
    // Most emails have neither a lead record nor a link: nothing more to look at.
    if (email_has_no_records(email)) return ++stats_.hits, true;
    // One probe per table for both parts: the entry holds the lead record and the link.
    const OptOutRecord* lead = nullptr;
    const std::string* link = nullptr;
    for (const PersonCache* c : {&batch_, &cache_}) {
      const EmailEntry* e = c->find_email(email);
      if (e == nullptr) continue;
      if (lead == nullptr && e->lead_known) lead = &e->lead;
      if (link == nullptr && e->link_known) link = &e->linked_user;
    }
    if (lead == nullptr || link == nullptr) return ++stats_.misses, false;
    out |= *lead;
    if (!link->empty() && *link != person.user_id) {
      const OptOutRecord* linked = find_user({person.bu, *link});
      if (linked == nullptr) return ++stats_.misses, false;
      out |= *linked;
    }
  }
  ++stats_.hits;
  return true;
}

void StatusReader::want_part(Part part, std::string_view bu, std::string_view id) {
  switch (part) {
    case Part::kUser:
      if (find_user({bu, id}) != nullptr) return;
      keys_.user(key_, bu, id);
      break;
    case Part::kLead:
      if (find_lead({bu, id}) != nullptr) return;
      keys_.lead(key_, bu, id);
      break;
    case Part::kLink:
      if (find_link({bu, id}) != nullptr) return;
      keys_.link(key_, bu, id);
      break;
  }
  if (wanted_keys_.contains(key_)) return;
  // The key ends in "<bu>:<id>" (want's emails come normalised, as the key spells them).
  wanted_.push_back(
      {key_, static_cast<std::uint32_t>(bu.size()), static_cast<std::uint32_t>(id.size()), part});
  wanted_keys_.insert(wanted_.back().key);
}

void StatusReader::want(const PersonRef& person) {
  if (!person.user_id.empty()) want_part(Part::kUser, person.bu, person.user_id);
  if (!person.email.empty()) {
    const std::string_view email = normalized_email(person, want_email_);
    if (email_has_no_records({person.bu, email})) return;
    want_part(Part::kLead, person.bu, email);
    if (const std::string* link = find_link({person.bu, email})) {
      if (!link->empty()) want_part(Part::kUser, person.bu, *link);
    } else {
      want_part(Part::kLink, person.bu, email);
    }
  }
}

Status StatusReader::fetch() {
  if (!lookup_) return fail("not connected");
  std::string error;
  // Round one may reveal linked users, whose records round two reads: at most one more key
  // per key of round one. When the cache can take them all without evicting any, they go
  // into it alone; otherwise the batch keeps its own copy too, so that what the cache evicts
  // while this batch is fetched still decides it.
  const bool direct = cache_enabled_ && cache_.can_take(2 * wanted_.size());
  while (!wanted_.empty()) {
    round_.clear();
    round_.swap(wanted_);
    wanted_keys_.clear();
    if (!fetch_round(round_, direct, error)) {
      wanted_.clear();
      wanted_keys_.clear();
      disconnect();
      return fail(error);
    }
  }
  return {};
}

bool StatusReader::fetch_round(std::deque<Wanted>& round, bool direct, std::string& error) {
  ++stats_.fetch_rounds;
  // The command list keeps its argument vectors from round to round: a miss allocates no
  // arguments once the list has grown to the batch size.
  if (commands_.size() < round.size()) commands_.resize(round.size());
  for (std::size_t n = 0; n < round.size(); ++n) {
    commands_[n].key = round[n].key;
    commands_[n].args.assign({round[n].part == Part::kLink ? "GET" : "HGETALL", round[n].key});
  }
  const bool fetched = lookup_->pipeline(commands_, round.size(), replies_);
  collect_router_stats();
  if (!fetched) {
    error = lookup_->error();
    return false;
  }
  const std::size_t links_before = links_.size();
  const std::uint64_t flushes_before = stats_.flushes;
  if (lookup_->topology_version() != topology_seen_ && cache_enabled_ && !sync_links(error)) {
    return false;
  }
  const bool keep = links_.size() == links_before && stats_.flushes == flushes_before;
  const bool to_cache = keep && cache_enabled_;
  const bool to_batch = !(to_cache && direct);
  for (std::size_t n = 0; n < round.size(); ++n) {
    const Wanted& w = round[n];
    const RedisReplyPtr& reply = replies_[n];
    const PersonKey who{w.bu(), w.id()};
    if (w.part == Part::kLink) {
      std::string_view linked;
      if (reply->type == REDIS_REPLY_STRING) {
        linked = {reply->str, reply->len};
      } else if (reply->type != REDIS_REPLY_NIL) {
        error = "GET " + w.key + ": " + describe_reply(reply.get());
        return false;
      }
      ++stats_.keys_fetched;
      if (!linked.empty()) want_part(Part::kUser, who.bu, linked);
      if (to_cache) cache_.put_link(who, linked);
      if (to_batch) batch_.put_link(who, linked);
      continue;
    }
    if (reply->type != REDIS_REPLY_ARRAY) {
      // A key of the wrong type (another job's mistake) is an error, never "not opted out".
      error = "HGETALL " + w.key + ": " + describe_reply(reply.get());
      return false;
    }
    OptOutRecord record;
    for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
      const redisReply* f = reply->element[i];
      const redisReply* v = reply->element[i + 1];
      if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
      apply_status_field(record, channels_, {f->str, f->len}, {v->str, v->len});
    }
    ++stats_.keys_fetched;
    // A link opened after these reads may have missed a write in between: this batch decides
    // on them, the cache does not keep them.
    if (w.part == Part::kUser) {
      if (to_cache) cache_.put_user(who, record);
      if (to_batch) batch_.put_user(who, record);
    } else {
      if (to_cache) cache_.put_lead(who, record);
      if (to_batch) batch_.put_lead(who, record);
    }
  }
  return true;
}

void StatusReader::end_batch() noexcept {
  batch_.clear();
}

}  // namespace gk

#include "common/store/status_reader.h"

#include <algorithm>
#include <chrono>

// StatusReader's links: the lookup connection, a tracking link and an invalidation
// subscriber per node, their pings, and the evictions the subscribers announce. The
// lookups themselves (resolve, want, fetch) are in status_reader.cc.

namespace gk {

namespace {

constexpr auto kIndexScanRetry = std::chrono::seconds(5);

constexpr auto kReplicaRetry = std::chrono::seconds(5);

// A PING's answer on a subscribed connection (RESP2): ["pong", ""].
bool is_pong(const redisReply* r) {
  return r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
         r->element[0]->type == REDIS_REPLY_STRING &&
         std::string_view(r->element[0]->str, r->element[0]->len) == "pong";
}

bool is_message(const redisReply* r) {
  return r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
         r->element[0]->type == REDIS_REPLY_STRING &&
         std::string_view(r->element[0]->str, r->element[0]->len) == "message";
}

}  // namespace

Status StatusReader::connect() {
  disconnect();
  auto lookup = RedisRouter::connect(redis_);
  if (!lookup) return fail(lookup.error());
  lookup_ = std::move(lookup).value();
  topology_seen_ = topology_counted_ = lookup_->topology_version();
  router_counted_ = lookup_->stats();
  std::string error;
  if (cache_enabled_ && !sync_links(error)) {
    disconnect();
    return fail(error);
  }
  return {};
}

bool StatusReader::open_link(const std::string& node, Link& link, std::string& error) {
  link.node = node;
  auto opened = open_tracking(redis_, node, keys_.tracking_prefixes());
  if (!opened) {
    error = opened.error();
    return false;
  }
  link.tracker = std::move(opened->tracker);
  link.subscriber = std::move(opened->subscriber);
  return true;
}

bool StatusReader::sync_links(std::string& error) {
  topology_seen_ = lookup_->topology_version();
  const std::vector<std::string> primaries = lookup_->primaries();
  const std::vector<std::string> replicas = lookup_->replicas();
  auto wanted = [&](const std::string& node) {
    return std::find(primaries.begin(), primaries.end(), node) != primaries.end() ||
           std::find(replicas.begin(), replicas.end(), node) != replicas.end();
  };
  // A node that left the map cannot announce writes that matter any more.
  std::erase_if(links_, [&](const Link& l) { return !wanted(l.node); });
  bool added = false;
  const auto now = std::chrono::steady_clock::now();
  auto add = [&](const std::string& node, bool required) {
    for (const Link& l : links_) {
      if (l.node == node) return true;
    }
    // A replica that could not be reached is tried again later, not at every ping: an
    // unreachable host costs a whole connect timeout, and the message loop waits for it.
    if (auto it = retry_after_.find(node); !required && it != retry_after_.end()) {
      if (now < it->second) return true;
    }
    Link link;
    std::string why;
    if (!open_link(node, link, why)) {
      if (required) {
        error = why;
        return false;
      }
      ++stats_.link_errors;
      retry_after_[node] = now + kReplicaRetry;
      return true;
    }
    retry_after_.erase(node);
    links_.push_back(std::move(link));
    added = true;
    return true;
  };
  for (const std::string& node : primaries) {
    if (!add(node, true)) return false;
  }
  for (const std::string& node : replicas) (void)add(node, false);
  rebuild_fds();
  // Writes on a node before its link existed were not heard: whatever is cached may be stale.
  if (added) {
    if (cache_.size() > 0) ++stats_.flushes;
    flush_cache();
  }
  return true;
}

void StatusReader::rebuild_fds() {
  fds_.clear();
  for (const Link& l : links_) fds_.push_back(l.subscriber->fd());
}

void StatusReader::collect_router_stats() {
  if (!lookup_) return;
  const RedisRouter::Stats& now = lookup_->stats();
  stats_.redirects.moved += now.moved - router_counted_.moved;
  stats_.redirects.ask += now.ask - router_counted_.ask;
  stats_.redirects.tryagain += now.tryagain - router_counted_.tryagain;
  stats_.topology_changes += lookup_->topology_version() - topology_counted_;
  router_counted_ = now;
  topology_counted_ = lookup_->topology_version();
}

void StatusReader::disconnect() noexcept {
  collect_router_stats();
  // Without the invalidation links nothing cached can be trusted any more.
  if (cache_.size() > 0) ++stats_.flushes;
  flush_cache();
  links_.clear();
  fds_.clear();
  lookup_.reset();
}

bool StatusReader::drain_invalidations(std::size_t index) {
  if (index >= links_.size()) return connected();
  RedisConnection& link = *links_[index].subscriber;
  if (!link.read_available()) {
    disconnect();
    return false;
  }
  while (auto reply = link.next_buffered_reply()) {
    if (is_pong(reply.get())) {
      ++links_[index].pongs;
      index_ready_if_answered();
      continue;
    }
    if (!is_message(reply.get())) continue;
    const redisReply* keys = reply->element[2];
    if (keys->type == REDIS_REPLY_ARRAY) {
      for (std::size_t i = 0; i < keys->elements; ++i) {
        const redisReply* k = keys->element[i];
        if (k->type != REDIS_REPLY_STRING) continue;
        invalidate({k->str, k->len});
        ++stats_.invalidations;
      }
    } else {
      // A null key list means Redis flushed a database: everything may have changed.
      if (cache_.size() > 0) ++stats_.flushes;
      flush_cache();
    }
  }
  if (!link.ok()) {
    disconnect();
    return false;
  }
  return true;
}

void StatusReader::invalidate(std::string_view key) noexcept {
  Part part;
  if (key.starts_with(keys_.user_prefix())) {
    part = Part::kUser, key.remove_prefix(keys_.user_prefix().size());
  } else if (key.starts_with(keys_.lead_prefix())) {
    part = Part::kLead, key.remove_prefix(keys_.lead_prefix().size());
  } else if (key.starts_with(keys_.link_prefix())) {
    part = Part::kLink, key.remove_prefix(keys_.link_prefix().size());
  } else {
    return;
  }
  // A business unit holds no ':', so the first one ends it.
  const std::size_t colon = key.find(':');
  if (colon == std::string_view::npos) return;
  const PersonKey who{key.substr(0, colon), key.substr(colon + 1)};
  switch (part) {
    case Part::kUser:
      return cache_.erase_user(who);
    case Part::kLead:
      email_index_.note(who.bu, who.id);
      return cache_.erase_lead(who);
    case Part::kLink:
      email_index_.note(who.bu, who.id);
      return cache_.erase_link(who);
  }
}

void StatusReader::flush_cache() noexcept {
  cache_.clear();
  email_index_.reset();
  index_pinged_ = false;
}

void StatusReader::tick() {
  if (!cache_enabled_ || !lookup_ || email_index_.ready() || index_pinged_) return;
  std::string error;
  switch (email_index_.poll_scan(error)) {
    case EmailIndex::Scan::kRunning:
      return;
    case EmailIndex::Scan::kIdle:
      if (std::chrono::steady_clock::now() < index_retry_after_) return;
      // Begun after the links are up: a write the scan misses is announced on them.
      email_index_.start_scan(lookup_->primaries());
      return;
    case EmailIndex::Scan::kFailed:
      // Every key is read meanwhile, as without the index; the next scan starts a while later.
      ++stats_.email_index_scan_failures;
      index_retry_after_ = std::chrono::steady_clock::now() + kIndexScanRetry;
      return;
    case EmailIndex::Scan::kDone:
      break;
  }
  ++stats_.email_index_scans;
  // A write before the scan's end was announced before Redis answers this PING, on the same
  // connection: once every link has answered, nothing the scan missed is still unheard.
  for (Link& l : links_) {
    l.subscriber->append({"PING"});
    if (!l.subscriber->flush()) {
      disconnect();
      return;
    }
    ++l.pings;
  }
  index_pinged_ = true;
  index_ready_if_answered();
}

void StatusReader::index_ready_if_answered() noexcept {
  if (!index_pinged_) return;
  for (const Link& l : links_) {
    if (l.pongs < l.pings) return;
  }
  index_pinged_ = false;
  email_index_.set_ready();
}

bool StatusReader::ping() {
  if (!lookup_) return false;
  std::string error;
  // Every ping retries replica links that could not be opened before.
  const bool answered = lookup_->ping();
  collect_router_stats();
  if (!answered || !ping_trackers() || (cache_enabled_ && !sync_links(error))) {
    disconnect();
    return false;
  }
  return true;
}

bool StatusReader::ping_trackers() {
  // A tracking link sends nothing else: if it died (an idle-client timeout, CLIENT KILL, a
  // network fault), Redis would stop announcing writes and nobody would say so. The ping
  // notices it, and keeps it from ever being idle.
  for (Link& l : links_) l.tracker->append({"PING"});
  bool ok = true;
  for (Link& l : links_) {
    auto reply = l.tracker->get_reply();
    ok = ok && reply && reply->type != REDIS_REPLY_ERROR;
  }
  return ok;
}

std::vector<std::string> StatusReader::nodes() const {
  return lookup_ ? lookup_->primaries() : std::vector<std::string>{};
}

}  // namespace gk

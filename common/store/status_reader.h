#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>

#include <absl/container/flat_hash_set.h>
#include <vector>

#include "common/config/config.h"
#include "common/redis/redis_connection.h"
#include "common/redis/redis_router.h"
#include "common/rules/channels.h"
#include "common/rules/optout_record.h"
#include "common/store/email_index.h"
#include "common/store/key_schema.h"
#include "common/store/person_cache.h"
#include "common/store/tracking_link.h"
#include "common/util/result.h"

namespace gk {

// Who a message is for, as the header names them.
struct PersonRef {
  std::string_view bu;
  std::string_view user_id;
  std::string_view email;
  // `email` is already trimmed and lower-cased (the message loop normalises it once per
  // message, not once per lookup).
  bool email_normalized = false;
  // person_key_hash of (bu, user_id) and of (bu, normalised email) when the caller has them
  // (0: not computed): a message is looked at up to three times (two prefetches, then the
  // lookup), and its names are hashed once.
  std::size_t user_hash = 0;
  std::size_t email_hash = 0;
};

// Reads people's statuses from Redis for the message loop, through a cache that Redis keeps
// correct with client-side tracking: every node (one server, or every node of a cluster,
// replicas included) gets a tracking link in broadcast mode for the person keys' prefixes,
// redirected (RESP2) to a link subscribed to __redis__:invalidate, so a write by any client
// evicts what it touched wherever it lands, also after a slot moved or a replica took over.
// A node first seen later empties the cache (writes there before its link existed were not
// heard). Misses are collected over a batch and fetched in one pipeline (per node). Not
// thread-safe.
class StatusReader {
 public:
  struct Stats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t invalidations = 0;  // keys evicted by Redis invalidation messages
    std::uint64_t flushes = 0;        // whole-cache clears (link lost, FLUSHALL)
    std::uint64_t fetch_rounds = 0;
    std::uint64_t keys_fetched = 0;
    std::uint64_t link_errors = 0;  // cluster: replica links that could not be opened (retried
                                    // after 5 s)
    RedisRouter::Stats redirects;   // cluster: MOVED / ASK / TRYAGAIN followed by lookups
    std::uint64_t topology_changes = 0;
    std::uint64_t email_index_scans = 0;  // finished scans
    std::uint64_t email_index_scan_failures = 0;
  };

  StatusReader(const RedisConfig& redis, const CacheConfig& cache, const ChannelRegistry& channels);

  // (Re)connects the lookup and invalidation links and turns tracking on; the cache starts
  // empty. On failure the reader stays disconnected and the error says why.
  Status connect();
  void disconnect() noexcept;
  bool connected() const noexcept { return lookup_ != nullptr; }

  // The invalidation links' sockets, to poll for input; none while disconnected or when
  // caching is off. The index of a socket is the `link` to drain.
  const std::vector<int>& invalidation_fds() const noexcept { return fds_; }
  // Applies the invalidations that have arrived on a link whose socket is readable. False
  // when it broke: the reader is then disconnected and its cache empty.
  bool drain_invalidations(std::size_t link);

  // The merged status of everything `person` names, if every record is known locally.
  bool resolve(const PersonRef& person, OptOutRecord& out);
  // Starts loading the cache slots resolve(person) will read; see PersonCache::prefetch_user.
  void prefetch(const PersonRef& person);
  // The step before prefetch(person): the control bytes it will probe and the email index's
  // slot, without waiting for any (PersonCache::prefetch_user_probe).
  void prefetch_probe(const PersonRef& person);
  // Notes what `person` needs that is not known locally, for the next fetch().
  void want(const PersonRef& person);
  bool has_wanted() const noexcept { return !wanted_.empty(); }
  // Fetches everything wanted in pipelined rounds. An error on a store failure (the reader is
  // then disconnected).
  Status fetch();
  // Forgets the records fetched for the current batch (the cache keeps its own copies).
  void end_batch() noexcept;

  // Keeps the email index going (email_index.h): starts its scan once connected, and once the
  // scan has finished, asks every invalidation link for the PING that makes it ready. Cheap;
  // the message loop calls it every turn.
  void tick();
  const EmailIndex& email_index() const noexcept { return email_index_; }

  // A round trip to every node, for readiness and for probing links that have been idle; in
  // cluster mode the slot map is re-read and the invalidation links follow it.
  bool ping();
  // Primaries the lookups go to ("host:port").
  std::vector<std::string> nodes() const;

  const Stats& stats() const noexcept { return stats_; }
  const PersonCache& cache() const noexcept { return cache_; }
  void set_cache_limits(const CacheConfig& cache) {
    if (!cache_enabled_) return;
    cache_.set_max_bytes(cache.max_memory_mb << 20);
    cache_.set_max_entries(cache.max_entries);
  }

 private:
  enum class Part { kUser, kLead, kLink };
  // A key to read: the Redis key, which ends in "<bu>:<id>" (the id an external id or a
  // normalised email), so the person's parts are views into it rather than copies.
  struct Wanted {
    std::string key;
    std::uint32_t bu_size = 0;
    std::uint32_t id_size = 0;
    Part part = Part::kUser;
    std::string_view id() const noexcept {
      return std::string_view(key).substr(key.size() - id_size);
    }
    std::string_view bu() const noexcept {
      return std::string_view(key).substr(key.size() - id_size - 1 - bu_size, bu_size);
    }
  };
  struct Link {
    std::string node;
    RedisConnection::Ptr tracker;  // holds the broadcast tracking, sends nothing else
    RedisConnection::Ptr subscriber;
    std::uint64_t pings = 0;  // sent on the subscriber for the email index, and answered
    std::uint64_t pongs = 0;
  };
  bool open_link(const std::string& node, Link& link, std::string& error);
  bool sync_links(std::string& error);
  bool ping_trackers();
  void rebuild_fds();
  // Folds the router's counters into stats_ (they restart with every new router).
  void collect_router_stats();
  // What this batch fetched, else what the cache holds; null when neither knows.
  const OptOutRecord* find_user(PersonKey key) const noexcept;
  const OptOutRecord* find_lead(PersonKey key) const noexcept;
  const std::string* find_link(PersonKey key) const noexcept;
  void want_part(Part part, std::string_view bu, std::string_view id);
  bool fetch_round(std::deque<Wanted>& round, bool direct, std::string& error);
  // Empties the cache and the email index: something may have changed unheard.
  void flush_cache() noexcept;
  // Makes the email index ready once every link has answered the PING tick() sent.
  void index_ready_if_answered() noexcept;
  // Whether `email` (normalised) is known to have neither a lead record nor a link.
  bool email_has_no_records(PersonKey email) const noexcept {
    return !email_index_.may_have(email);
  }
  // Forgets what an invalidated Redis key held; keys outside the layout are ignored.
  void invalidate(std::string_view key) noexcept;
  const RedisConfig redis_;
  const KeySchema keys_;
  const bool cache_enabled_;
  const ChannelRegistry& channels_;
  // Needs the invalidation links, so it goes with the cache.
  EmailIndex email_index_;
  bool index_pinged_ = false;  // the PINGs that make the index ready are out
  std::chrono::steady_clock::time_point index_retry_after_{};
  RedisRouter::Ptr lookup_;
  std::uint64_t topology_seen_ = 0;
  RedisRouter::Stats router_counted_;  // what of the current router's counts stats_ holds
  std::uint64_t topology_counted_ = 0;
  std::vector<Link> links_;
  std::map<std::string, std::chrono::steady_clock::time_point> retry_after_;  // replicas
  std::vector<int> fds_;
  std::vector<RedisRouter::Command> commands_;
  std::vector<RedisReplyPtr> replies_;
  PersonCache cache_;
  PersonCache batch_;  // this batch's fetches, so a tiny or disabled cache still decides
  // A deque: the keys' bytes must stay put, since wanted_keys_ holds views of them.
  std::deque<Wanted> wanted_;
  std::deque<Wanted> round_;
  absl::flat_hash_set<std::string_view> wanted_keys_;
  std::string key_;  // reused Redis key buffer for misses
  // The normalised email of `person`: person.email itself when it already is, else a copy
  // normalised into `buffer`.
  static std::string_view normalized_email(const PersonRef& person, std::string& buffer);
  static PersonKey user_key(const PersonRef& person) noexcept {
    return {person.bu, person.user_id, person.user_hash};
  }
  // The email's key; its hash is the caller's only when the caller normalised the email.
  static PersonKey email_key(const PersonRef& person, std::string& buffer);
  std::string email_;  // normalisation buffers (reused) for resolve, prefetch and want
  std::string prefetch_email_;
  std::string want_email_;
  Stats stats_;
};

}  // namespace gk

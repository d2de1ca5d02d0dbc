#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/config/config.h"
#include "common/redis/redis_connection.h"
#include "common/redis/redis_router.h"
#include "common/rules/address.h"
#include "common/store/erasure_hash.h"
#include "common/store/key_schema.h"
#include "common/util/string_hash.h"

namespace gk {

// What the message loop must know without a lookup (PROTOCOL.md 11 and 13): the suppressed
// addresses and the erasure tombstones. Both are few, so all of them are kept in process:
// loaded with SCAN on every primary, then kept fresh by broadcast client tracking on the
// address and tombstone prefixes (the mechanism StatusReader uses for people), by a thread
// of its own so the message loop never waits for it. The loop takes an immutable snapshot
// when the version changes, between batches (AddressCheck).
class AddressBook {
 public:
  // Transparent, so a lookup by std::string_view builds no key string.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return string_hash(s); }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
  };
  struct State {
    // "<CHANNEL>:<address in stored form>" -> why it is suppressed; only suppressed ones.
    absl::flat_hash_map<std::string, AddressReason, KeyHash, KeyEq> addresses;
    absl::flat_hash_set<TombstoneId, TombstoneIdHash> tombstones;
    // The tombstones' first halves, probed first (one SipHash per identifier).
    absl::flat_hash_set<std::uint64_t> tombstone_his;
  };

  explicit AddressBook(const RedisConfig& redis);
  ~AddressBook();
  AddressBook(const AddressBook&) = delete;
  AddressBook& operator=(const AddressBook&) = delete;

  // Starts the thread that loads and follows the store; idempotent.
  void start();
  void stop();

  // True while the book holds everything the store holds (loaded and its links up).
  bool synced() const noexcept { return synced_.load(std::memory_order_acquire); }
  // Changes whenever the snapshot or `synced` changes.
  std::uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }
  std::shared_ptr<const State> snapshot() const;

 private:
  struct Link {
    RedisConnection::Ptr tracker;
    RedisConnection::Ptr subscriber;
  };
  void run();
  bool connect(std::string& error);
  bool load(std::string& error);
  bool refresh_keys(const std::vector<std::string>& keys, std::string& error);
  bool drain(Link& link, std::vector<std::string>& keys, bool& flushed);
  bool ping();
  void disconnect();
  void publish(State state, bool synced);
  // The entry a key names: "<CHANNEL>:<address>" for an address, the hash for a tombstone.
  bool is_tombstone(std::string_view key) const noexcept;
  std::string_view name_of(std::string_view key) const noexcept;

  const RedisConfig redis_;
  const KeySchema keys_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::atomic<bool> synced_{false};
  std::atomic<std::uint64_t> version_{0};
  mutable std::mutex mutex_;
  std::shared_ptr<const State> state_;

  // Owned by the thread.
  RedisRouter::Ptr router_;
  std::vector<std::string> primaries_;
  std::vector<Link> links_;
};

// The message loop's view of the book: a snapshot refreshed between batches, and the checks
// of one message. Both checks cost nothing while the book is empty, and otherwise a
// normalisation into a reused buffer and one flat-table probe (plus, while any tombstone
// exists, a keyed hash per identifier). Not thread-safe: one per loop.
class AddressCheck {
 public:
  AddressCheck(const AddressBook& book, std::string_view salt) : book_(book), hasher_(salt) {}

  // Takes a newer snapshot if there is one (true): one atomic load when nothing changed.
  bool refresh();
  std::size_t addresses() const noexcept { return state_ ? state_->addresses.size() : 0; }
  std::size_t tombstones() const noexcept { return state_ ? state_->tombstones.size() : 0; }
  // False while the book is not in step with the store: fail closed, as for an unreachable
  // store.
  bool ready() const noexcept { return synced_; }
  // Whether any address or tombstone is known; when not, both checks below are skipped.
  bool active() const noexcept { return view_ != nullptr; }
  struct Verdict {
    bool erased = false;                           // section 13: an identifier is erased
    AddressReason address = AddressReason::kNone;  // section 11: why `to` is suppressed
  };
  // Both checks of one message; `channel` is canonical. `to` is normalised once for both,
  // and on MAIL a `to` equal to the user's email is hashed once.
  Verdict check(std::string_view channel, std::string_view bu, std::string_view user_id,
                std::string_view email, std::string_view to);

 private:
  const AddressBook& book_;
  TombstoneHasher hasher_;
  std::uint64_t seen_ = ~std::uint64_t{0};
  bool synced_ = false;
  std::shared_ptr<const AddressBook::State> state_;
  const AddressBook::State* view_ = nullptr;  // state_.get(), null while both sets are empty
  bool user_erased(std::string_view bu, std::string_view id) const;
  bool address_erased(std::string_view channel, std::string_view address) const;

  std::string key_;
  std::string to_;
  std::string email_;
};

}  // namespace gk

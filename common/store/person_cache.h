#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>

#include "common/rules/optout_record.h"
#include "common/store/person_key.h"
#include "common/util/huge_page_allocator.h"

namespace gk {

// What is known of one email: its lead record (gk:l:) and its link to a user (gk:id:), each
// on its own, since Redis invalidates the two keys separately.
struct EmailEntry {
  OptOutRecord lead;
  std::string linked_user;  // empty: linked to nobody
  bool lead_known = false;
  bool link_known = false;
};

// The statuses the message loop has read, by person: one open-addressed table of users and
// one of emails, so a message costs one probe per name it carries (two for the usual header
// with an id and an email) and a hit allocates nothing. The hash is computed from the key's
// parts, never from a built Redis key. Absent records are cached too (most people never opt
// out). Kept correct by invalidations, not TTLs. Single-threaded: owned by the message loop.
//
// Two bounds: max_entries counts the Redis keys known (a user record, a lead record, a link;
// cache.max_entries), max_bytes the memory of the tables' slot arrays (cache.max_memory_mb;
// 0: unbounded). A table grows by doubling, so the memory bound is kept by not letting a
// table double past it: once it would, new entries take the place of evicted ones.
class PersonCache {
 public:
  explicit PersonCache(std::size_t max_entries, std::size_t max_bytes = 0)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  const OptOutRecord* find_user(PersonKey key) const noexcept;
  const EmailEntry* find_email(PersonKey key) const noexcept;
  // Starts loading the slot a later find_user / find_email for `key` will read, so that a
  // loop can overlap that memory access with other work: the tables are far larger than the
  // CPU's caches, and a probe's cost is mostly the wait for the slot.
  void prefetch_user(PersonKey key) const noexcept;
  void prefetch_email(PersonKey key) const noexcept;
  // The step before: starts loading the control bytes those will probe, without waiting for
  // anything, so a loop that knows its keys two steps ahead hides both memory accesses.
  void prefetch_user_probe(PersonKey key) const noexcept;
  void prefetch_email_probe(PersonKey key) const noexcept;

  void put_user(PersonKey key, const OptOutRecord& record);
  void put_lead(PersonKey key, const OptOutRecord& record);
  void put_link(PersonKey key, std::string_view linked_user);

  void erase_user(PersonKey key) noexcept;
  void erase_lead(PersonKey key) noexcept;
  void erase_link(PersonKey key) noexcept;
  void clear() noexcept;

  std::size_t size() const noexcept { return keys_; }  // Redis keys known
  std::size_t max_entries() const noexcept { return max_entries_; }
  // A smaller bound evicts down to it at once.
  void set_max_entries(std::size_t max_entries);
  // Whether `n` more keys (in either table) fit without evicting anything.
  bool can_take(std::size_t n) const noexcept;
  // The tables' slot arrays (keys longer than a slot holds add their heap bytes on top).
  std::size_t bytes() const noexcept;
  std::size_t max_bytes() const noexcept { return max_bytes_; }
  // A smaller bound applies as the tables fill: memory already allocated stays until clear().
  void set_max_bytes(std::size_t max_bytes) noexcept { max_bytes_ = max_bytes; }
  std::uint64_t evictions() const noexcept { return evictions_; }

 private:
  // A stored key is "<bu>\0<id>": a business unit holds no control character, so the split
  // is unambiguous. Lookups by PersonKey hash and compare the same two parts. The bytes sit
  // in the table's slot, so a probe touches the slot alone where a std::string key would
  // chase a pointer: up to 40 bytes for a user (a business unit and an external id), 56 for
  // an email (a business unit and an address; a longer one spills to the heap and costs one
  // more memory access per probe).
  template <std::size_t N>
  struct StoredKey {
    absl::InlinedVector<char, N> bytes;
    std::string_view view() const noexcept { return {bytes.data(), bytes.size()}; }
  };
  using UserKey = StoredKey<40>;
  using EmailKey = StoredKey<56>;
  // A probe by hash alone: it matches the first slot whose control byte fits the hash,
  // without reading the slot, which is what prefetching needs (a wrong guess only wastes the
  // prefetch).
  struct ProbeKey {
    std::size_t hash;
  };
  static PersonKey split(std::string_view stored) noexcept {
    const std::size_t zero = stored.find('\0');
    return {stored.substr(0, zero), stored.substr(zero + 1)};
  }
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(ProbeKey probe) const noexcept { return probe.hash; }
    std::size_t operator()(PersonKey key) const noexcept;
    template <std::size_t N>
    std::size_t operator()(const StoredKey<N>& stored) const noexcept {
      return (*this)(split(stored.view()));
    }
  };
  struct Eq {
    using is_transparent = void;
    static bool same(std::string_view stored, PersonKey key) noexcept {
      return stored.size() == key.bu.size() + 1 + key.id.size() &&
             stored.substr(0, key.bu.size()) == key.bu && stored[key.bu.size()] == '\0' &&
             stored.substr(key.bu.size() + 1) == key.id;
    }
    template <std::size_t N>
    bool operator()(const StoredKey<N>& stored, PersonKey key) const noexcept {
      return same(stored.view(), key);
    }
    template <std::size_t N>
    bool operator()(PersonKey key, const StoredKey<N>& stored) const noexcept {
      return same(stored.view(), key);
    }
    template <std::size_t N>
    bool operator()(const StoredKey<N>& a, const StoredKey<N>& b) const noexcept {
      return a.view() == b.view();
    }
    template <std::size_t N>
    bool operator()(const StoredKey<N>&, ProbeKey) const noexcept {
      return true;
    }
    template <std::size_t N>
    bool operator()(ProbeKey, const StoredKey<N>&) const noexcept {
      return true;
    }
  };
  template <class Key, class Value>
  using Table =
      absl::flat_hash_map<Key, Value, Hash, Eq, HugePageAllocator<std::pair<const Key, Value>>>;

  template <class Key>
  static Key join(PersonKey key);
  template <class Key, class Value>
  static void prefetch(const Table<Key, Value>& table, PersonKey key) noexcept;
  template <class Key, class Value>
  static void prefetch_probe(const Table<Key, Value>& table, PersonKey key) noexcept;

  // The entry a new part of `key` goes into, room made for it; null when none can be made.
  EmailEntry* email_slot(PersonKey key, bool part_known_already);
  // Makes room for one more key; `keep` (the entry being written) is never the victim.
  bool make_room(const EmailEntry* keep);
  void evict_to(std::size_t target, const EmailEntry* keep);
  // Before a new entry enters `table`: when the insert could make it double past max_bytes,
  // evicts some of its entries, so that the table reuses their slots in place instead.
  template <class Key, class Value>
  void bound_growth(Table<Key, Value>& table, const EmailEntry* keep);
  // What `table` would allocate to hold `n` more entries without evicting (bound_growth's
  // rule, assuming every doubling is needed).
  template <class Key, class Value>
  static std::size_t growth_bytes(const Table<Key, Value>& table, std::size_t n) noexcept {
    std::size_t extra = 0;
    for (std::size_t c = table.capacity(); (table.size() + n) * 32 > c * 25; c = c * 2 + 1) {
      extra += (c + 1) * slot_bytes(table);
    }
    return extra;
  }
  template <class Key, class Value>
  static std::size_t slot_bytes(const Table<Key, Value>&) noexcept {
    return sizeof(typename Table<Key, Value>::value_type) + 1;  // + its control byte
  }

  Table<UserKey, OptOutRecord> users_;
  Table<EmailKey, EmailEntry> emails_;
  std::size_t keys_ = 0;
  std::size_t max_entries_;
  std::size_t max_bytes_;
  std::uint64_t evictions_ = 0;
};

}  // namespace gk

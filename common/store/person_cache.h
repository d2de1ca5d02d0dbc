#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>

#include "common/rules/optout_record.h"

namespace gk {

// Names one person's record without building its Redis key: the business unit and either the
// external id (as written) or the email (normalised: trimmed and lower-cased).
struct PersonKey {
  std::string_view bu;
  std::string_view id;
};

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
// max_entries bounds the Redis keys known (a user record, a lead record, a link), the unit
// of the cache.max_entries setting.
class PersonCache {
 public:
  explicit PersonCache(std::size_t max_entries) : max_entries_(max_entries) {}

  const OptOutRecord* find_user(PersonKey key) const noexcept;
  const EmailEntry* find_email(PersonKey key) const noexcept;

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
  std::uint64_t evictions() const noexcept { return evictions_; }

 private:
  // A stored key is "<bu>\0<id>": a business unit holds no control character, so the split
  // is unambiguous. Lookups by PersonKey hash and compare the same two parts. The bytes sit
  // in the table's slot (up to 40 of them, which fits an email and its business unit), so
  // a probe touches one cache line where a std::string key would chase a pointer.
  struct StoredKey {
    absl::InlinedVector<char, 40> bytes;
    std::string_view view() const noexcept { return {bytes.data(), bytes.size()}; }
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(PersonKey key) const noexcept;
    std::size_t operator()(const StoredKey& stored) const noexcept;
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(const StoredKey& stored, PersonKey key) const noexcept;
    bool operator()(PersonKey key, const StoredKey& stored) const noexcept {
      return (*this)(stored, key);
    }
    bool operator()(const StoredKey& a, const StoredKey& b) const noexcept {
      return a.view() == b.view();
    }
  };
  template <class Value>
  using Table = absl::flat_hash_map<StoredKey, Value, Hash, Eq>;

  static StoredKey join(PersonKey key);

  // The entry a new part of `key` goes into, room made for it; null when none can be made.
  EmailEntry* email_slot(PersonKey key, bool part_known_already);
  // Makes room for one more key; `keep` (the entry being written) is never the victim.
  bool make_room(const EmailEntry* keep);
  void evict_to(std::size_t target, const EmailEntry* keep);

  Table<OptOutRecord> users_;
  Table<EmailEntry> emails_;
  std::size_t keys_ = 0;
  std::size_t max_entries_;
  std::uint64_t evictions_ = 0;
};

}  // namespace gk

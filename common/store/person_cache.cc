#include "common/store/person_cache.h"

#include <type_traits>
#include <utility>

namespace gk {

template <class Key>
Key PersonCache::join(PersonKey key) {
  Key out;
  out.bytes.reserve(key.bu.size() + 1 + key.id.size());
  out.bytes.insert(out.bytes.end(), key.bu.begin(), key.bu.end());
  out.bytes.push_back('\0');
  out.bytes.insert(out.bytes.end(), key.id.begin(), key.id.end());
  return out;
}

std::size_t PersonCache::Hash::operator()(PersonKey key) const noexcept {
  return hash_of(key);
}

const OptOutRecord* PersonCache::find_user(PersonKey key) const noexcept {
  if (users_.empty()) return nullptr;
  const auto it = users_.find(key);
  return it == users_.end() ? nullptr : &it->second;
}

const EmailEntry* PersonCache::find_email(PersonKey key) const noexcept {
  if (emails_.empty()) return nullptr;
  const auto it = emails_.find(key);
  return it == emails_.end() ? nullptr : &it->second;
}

template <class Key, class Value>
void PersonCache::prefetch(const Table<Key, Value>& table, PersonKey key) noexcept {
  if (table.empty()) return;
  const auto it = table.find(ProbeKey{Hash{}(key)});
  if (it == table.end()) return;
  // A slot is wider than a cache line (the key bytes, then the value), and may straddle two.
  const char* slot = reinterpret_cast<const char*>(&*it);
  for (std::size_t at = 0; at < sizeof(*it); at += 64) __builtin_prefetch(slot + at);
  __builtin_prefetch(slot + sizeof(*it) - 1);
}

template <class Key, class Value>
void PersonCache::prefetch_probe(const Table<Key, Value>& table, PersonKey key) noexcept {
  if (!table.empty()) table.prefetch(ProbeKey{Hash{}(key)});
}

void PersonCache::prefetch_user_probe(PersonKey key) const noexcept {
  prefetch_probe(users_, key);
}

void PersonCache::prefetch_email_probe(PersonKey key) const noexcept {
  prefetch_probe(emails_, key);
}

void PersonCache::prefetch_user(PersonKey key) const noexcept {
  prefetch(users_, key);
}

void PersonCache::prefetch_email(PersonKey key) const noexcept {
  prefetch(emails_, key);
}

void PersonCache::put_user(PersonKey key, const OptOutRecord& record) {
  if (const auto it = users_.find(key); it != users_.end()) {
    it->second = record;
    return;
  }
  if (!make_room(nullptr)) return;
  bound_growth(users_, nullptr);
  users_.emplace(join<UserKey>(key), record);
  ++keys_;
}

// An email part being added counts as one more key; the entry itself may already exist.
EmailEntry* PersonCache::email_slot(PersonKey key, bool part_known_already) {
  auto it = emails_.find(key);
  if (it != emails_.end()) {
    if (part_known_already) return &it->second;
    // Erasing other entries leaves this one where it is (flat_hash_map erases in place).
    if (!make_room(&it->second)) return nullptr;
    ++keys_;
    return &it->second;
  }
  if (!make_room(nullptr)) return nullptr;
  bound_growth(emails_, nullptr);
  ++keys_;
  return &emails_.emplace(join<EmailKey>(key), EmailEntry{}).first->second;
}

void PersonCache::put_lead(PersonKey key, const OptOutRecord& record) {
  const EmailEntry* existing = find_email(key);
  if (EmailEntry* e = email_slot(key, existing != nullptr && existing->lead_known)) {
    e->lead = record;
    e->lead_known = true;
  }
}

void PersonCache::put_link(PersonKey key, std::string_view linked_user) {
  const EmailEntry* existing = find_email(key);
  if (EmailEntry* e = email_slot(key, existing != nullptr && existing->link_known)) {
    e->linked_user.assign(linked_user);
    e->link_known = true;
  }
}

void PersonCache::erase_user(PersonKey key) noexcept {
  if (const auto it = users_.find(key); it != users_.end()) {
    users_.erase(it);
    --keys_;
  }
}

void PersonCache::erase_lead(PersonKey key) noexcept {
  const auto it = emails_.find(key);
  if (it == emails_.end() || !it->second.lead_known) return;
  it->second.lead_known = false;
  it->second.lead = {};
  --keys_;
  if (!it->second.link_known) emails_.erase(it);
}

void PersonCache::erase_link(PersonKey key) noexcept {
  const auto it = emails_.find(key);
  if (it == emails_.end() || !it->second.link_known) return;
  it->second.link_known = false;
  it->second.linked_user.clear();
  --keys_;
  if (!it->second.lead_known) emails_.erase(it);
}

void PersonCache::clear() noexcept {
  users_.clear();
  emails_.clear();
  keys_ = 0;
}

void PersonCache::set_max_entries(std::size_t max_entries) {
  max_entries_ = max_entries;
  evict_to(max_entries_, nullptr);
}

bool PersonCache::can_take(std::size_t n) const noexcept {
  if (keys_ > max_entries_ || max_entries_ - keys_ < n) return false;
  if (max_bytes_ == 0) return true;
  return bytes() + growth_bytes(users_, n) + growth_bytes(emails_, n) <= max_bytes_;
}

std::size_t PersonCache::bytes() const noexcept {
  return users_.capacity() * slot_bytes(users_) + emails_.capacity() * slot_bytes(emails_);
}

template <class Key, class Value>
void PersonCache::bound_growth(Table<Key, Value>& table, const EmailEntry* keep) {
  if (max_bytes_ == 0) return;
  const std::size_t capacity = table.capacity();
  // Below 25/32 of its capacity a table that runs out of free slots rehashes in place rather
  // than doubling (absl's rule), so an insert there never grows it. Small tables do not count.
  if (capacity < 64 || (table.size() + 1) * 32 <= capacity * 25) return;
  if (bytes() + (capacity + 1) * slot_bytes(table) <= max_bytes_) return;  // room to double
  const std::size_t target = capacity * 23 / 32;
  for (auto it = table.begin(); it != table.end() && table.size() > target;) {
    std::size_t n = 1;
    if constexpr (std::is_same_v<Value, EmailEntry>) {
      if (&it->second == keep) {
        ++it;
        continue;
      }
      n = (it->second.lead_known ? 1 : 0) + (it->second.link_known ? 1 : 0);
    }
    table.erase(it++);
    keys_ -= n;
    evictions_ += n;
  }
}

bool PersonCache::make_room(const EmailEntry* keep) {
  if (max_entries_ == 0) return false;
  if (keys_ < max_entries_) return true;
  // Evict a sixteenth at once: each pass walks the table from its start, so evicting one
  // entry per insert would walk it once per insert.
  evict_to(max_entries_ - 1 - (max_entries_ - 1) / 16, keep);
  return keys_ < max_entries_;
}

// Any victim will do: an evicted person costs one more lookup, never a wrong answer.
void PersonCache::evict_to(std::size_t target, const EmailEntry* keep) {
  while (keys_ > target) {
    const std::size_t user_keys = users_.size();
    const bool from_users = user_keys > 0 && (user_keys >= keys_ - user_keys || emails_.empty() ||
                                              (emails_.size() == 1 && keep != nullptr));
    if (from_users) {
      for (auto it = users_.begin(); it != users_.end() && keys_ > target;) {
        users_.erase(it++);
        --keys_;
        ++evictions_;
      }
      continue;
    }
    bool evicted = false;
    for (auto it = emails_.begin(); it != emails_.end() && keys_ > target;) {
      if (&it->second == keep) {
        ++it;
        continue;
      }
      const std::size_t n = (it->second.lead_known ? 1 : 0) + (it->second.link_known ? 1 : 0);
      emails_.erase(it++);
      keys_ -= n;
      evictions_ += n;
      evicted = true;
    }
    if (!evicted && users_.empty()) return;  // only `keep` is left
  }
}

}  // namespace gk

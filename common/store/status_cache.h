#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/rules/optout_record.h"

namespace gk {

// A cached Redis key: a status hash (record) or an email-to-user link (linked_user, empty
// when the email is linked to nobody). Absent keys are cached too: most people never opt out.
struct CachedStatus {
  OptOutRecord record;
  std::string linked_user;
};

// Bounded map from Redis key to what it held, kept correct by invalidations, not by TTLs.
// Lookups by string_view allocate nothing. Single-threaded: owned by the message loop.
class StatusCache {
 public:
  explicit StatusCache(std::size_t max_entries) : max_entries_(max_entries) {}

  const CachedStatus* find(std::string_view key) const noexcept;
  void insert(std::string_view key, CachedStatus value);
  void erase(std::string_view key);
  void clear() noexcept { map_.clear(); }

  std::size_t size() const noexcept { return map_.size(); }
  std::size_t max_entries() const noexcept { return max_entries_; }
  // A smaller bound evicts down to it at once.
  void set_max_entries(std::size_t max_entries);
  std::uint64_t evictions() const noexcept { return evictions_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, CachedStatus, Hash, std::equal_to<>> map_;
  std::size_t max_entries_;
  std::uint64_t evictions_ = 0;
};

}  // namespace gk

#include "common/store/status_cache.h"

namespace gk {

const CachedStatus* StatusCache::find(std::string_view key) const noexcept {
  auto it = map_.find(key);
  return it == map_.end() ? nullptr : &it->second;
}

void StatusCache::insert(std::string_view key, CachedStatus value) {
  if (max_entries_ == 0) return;
  auto it = map_.find(key);
  if (it != map_.end()) {
    it->second = std::move(value);
    return;
  }
  if (map_.size() >= max_entries_) {
    // Any victim will do: an evicted person costs one more lookup, never a wrong answer.
    map_.erase(map_.begin());
    ++evictions_;
  }
  map_.emplace(std::string(key), std::move(value));
}

void StatusCache::set_max_entries(std::size_t max_entries) {
  max_entries_ = max_entries;
  while (map_.size() > max_entries_) {
    map_.erase(map_.begin());
    ++evictions_;
  }
}

void StatusCache::erase(std::string_view key) {
  auto it = map_.find(key);
  if (it != map_.end()) map_.erase(it);
}

}  // namespace gk

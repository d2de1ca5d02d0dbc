#include "common/store/email_index.h"

#include <utility>

#include "common/store/tracking_link.h"

namespace gk {

EmailIndex::EmailIndex(const RedisConfig& redis, const KeySchema& keys)
    : redis_(redis), keys_(keys) {}

EmailIndex::~EmailIndex() {
  stop_scan();
}

std::uint64_t EmailIndex::hash(PersonKey email) noexcept {
  return hash_of(email);
}

void EmailIndex::note(std::string_view bu, std::string_view email) {
  emails_.insert(hash({bu, email}));
}

void EmailIndex::reset() {
  stop_scan();
  emails_.clear();
  ready_ = false;
}

void EmailIndex::stop_scan() {
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();
  stop_ = false;
  finished_ = false;
  std::lock_guard lock(mutex_);
  found_.clear();
  scan_error_.clear();
}

void EmailIndex::start_scan(std::vector<std::string> primaries) {
  stop_scan();
  thread_ = std::thread([this, nodes = std::move(primaries)] { scan(nodes); });
}

EmailIndex::Scan EmailIndex::poll_scan(std::string& error) {
  if (!thread_.joinable()) return Scan::kIdle;
  if (!finished_.load(std::memory_order_acquire)) return Scan::kRunning;
  thread_.join();
  finished_ = false;
  std::vector<std::uint64_t> found;
  {
    std::lock_guard lock(mutex_);
    found.swap(found_);
    error.swap(scan_error_);
    scan_error_.clear();
  }
  if (!error.empty()) return Scan::kFailed;
  emails_.reserve(emails_.size() + found.size());
  emails_.insert(found.begin(), found.end());
  return Scan::kDone;
}

void EmailIndex::scan(const std::vector<std::string>& primaries) {
  std::vector<std::uint64_t> found;
  std::string error;
  for (const std::string& node : primaries) {
    if (!scan_node(node, found, error)) break;
  }
  {
    std::lock_guard lock(mutex_);
    found_ = std::move(found);
    scan_error_ = std::move(error);
  }
  finished_.store(true, std::memory_order_release);
}

bool EmailIndex::scan_node(const std::string& node, std::vector<std::uint64_t>& found,
                           std::string& error) {
  auto connected = connect_node(redis_, node);
  if (!connected) {
    error = node + ": " + connected.error();
    return false;
  }
  for (const std::string* prefix : {&keys_.lead_prefix(), &keys_.link_prefix()}) {
    const Status scanned = scan_prefix(
        **connected, *prefix,
        [&](const redisReply& keys) {
          for (std::size_t i = 0; i < keys.elements; ++i) {
            const redisReply* k = keys.element[i];
            if (k->type != REDIS_REPLY_STRING) continue;
            std::string_view key(k->str, k->len);
            key.remove_prefix(prefix->size());
            // A business unit holds no ':', so the first one ends it.
            const std::size_t colon = key.find(':');
            if (colon == std::string_view::npos) continue;
            found.push_back(hash({key.substr(0, colon), key.substr(colon + 1)}));
          }
        },
        &stop_);
    if (!scanned) {
      error = node + ": " + scanned.error();
      return false;
    }
  }
  return true;
}

}  // namespace gk

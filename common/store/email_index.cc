#include "common/store/email_index.h"

#include <absl/hash/hash.h>

#include <utility>

#include "common/redis/cluster_slots.h"
#include "common/redis/redis_connection.h"

namespace gk {

namespace {

constexpr std::string_view kScanCount = "1000";

// A SCAN pattern matching every key that starts with `prefix`, glob characters escaped.
std::string prefix_pattern(std::string_view prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('*');
  return out;
}

}  // namespace

EmailIndex::EmailIndex(const RedisConfig& redis, const KeySchema& keys)
    : redis_(redis), keys_(keys) {}

EmailIndex::~EmailIndex() {
  stop_scan();
}

std::uint64_t EmailIndex::hash(std::string_view bu, std::string_view email) noexcept {
  return absl::Hash<std::pair<std::string_view, std::string_view>>{}({bu, email});
}

void EmailIndex::note(std::string_view bu, std::string_view email) {
  emails_.insert(hash(bu, email));
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
  Result<RedisConnection::Ptr> connected = fail("no address");
  if (redis_.cluster.empty()) {
    connected = RedisConnection::connect(redis_);  // with the configured database
  } else if (const auto address = parse_node_address(node)) {
    connected = RedisConnection::connect(redis_, address->host, address->port);
  }
  if (!connected) {
    error = node + ": " + connected.error();
    return false;
  }
  RedisConnection& conn = **connected;
  for (const std::string* prefix : {&keys_.lead_prefix(), &keys_.link_prefix()}) {
    const std::string pattern = prefix_pattern(*prefix);
    std::string cursor = "0";
    do {
      if (stop_.load(std::memory_order_relaxed)) {
        error = "stopped";
        return false;
      }
      auto reply = conn.command({"SCAN", cursor, "MATCH", pattern, "COUNT", kScanCount});
      if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
          reply->element[0]->type != REDIS_REPLY_STRING ||
          reply->element[1]->type != REDIS_REPLY_ARRAY) {
        error = node + ": SCAN: " + (reply ? describe_reply(reply.get()) : conn.error());
        return false;
      }
      cursor.assign(reply->element[0]->str, reply->element[0]->len);
      const redisReply* keys = reply->element[1];
      for (std::size_t i = 0; i < keys->elements; ++i) {
        const redisReply* k = keys->element[i];
        if (k->type != REDIS_REPLY_STRING) continue;
        std::string_view key(k->str, k->len);
        key.remove_prefix(prefix->size());
        // A business unit holds no ':', so the first one ends it.
        const std::size_t colon = key.find(':');
        if (colon == std::string_view::npos) continue;
        found.push_back(hash(key.substr(0, colon), key.substr(colon + 1)));
      }
    } while (cursor != "0");
  }
  return true;
}

}  // namespace gk

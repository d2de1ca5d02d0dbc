#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <absl/container/flat_hash_set.h>

#include "common/config/config.h"
#include "common/store/key_schema.h"
#include "common/store/person_key.h"

namespace gk {

// Which emails (with their business unit) have a lead record or a link in Redis, or may have
// one. Most people never changed a status by email, so for them a message needs neither key:
// no probe of the email table on a hit, one Redis read instead of three on a miss.
//
// Built by a SCAN of every primary on a thread of its own, and kept fresh by the status
// reader's invalidations: an announced lead or link key is added (it may exist now); a key
// that goes away stays, which only costs a read. It is trusted ("ready") only after a scan
// that began once the invalidation links were up has finished and the reader has seen every
// link answer a PING sent after that, so that no write before the scan's end can still be
// unannounced. Until then, and again after anything that empties the reader's cache, every
// key is read as before. The hot-path methods are for the reader's thread only.
class EmailIndex {
 public:
  enum class Scan { kIdle, kRunning, kDone, kFailed };

  EmailIndex(const RedisConfig& redis, const KeySchema& keys);
  ~EmailIndex();
  EmailIndex(const EmailIndex&) = delete;
  EmailIndex& operator=(const EmailIndex&) = delete;

  // `email` normalised, as the keys spell it.
  void note(std::string_view bu, std::string_view email);
  // False only when the index is ready and knows neither a lead record nor a link for it.
  // `email`: the business unit and the normalised address.
  bool may_have(PersonKey email) const noexcept { return !ready_ || emails_.contains(hash(email)); }
  // Starts loading what may_have(email) will read.
  void prefetch(PersonKey email) const noexcept {
    if (ready_) emails_.prefetch(hash(email));
  }
  bool ready() const noexcept { return ready_; }
  void set_ready() noexcept { ready_ = true; }
  std::size_t size() const noexcept { return emails_.size(); }

  // Forgets everything and stops a running scan: not ready until the next one finishes.
  void reset();
  // Starts scanning `primaries` ("host:port") for lead and link keys.
  void start_scan(std::vector<std::string> primaries);
  // What the scan is doing; when it has finished, its findings are merged first (kDone, once)
  // or dropped with the reason in `error` (kFailed, once). Then kIdle again.
  Scan poll_scan(std::string& error);

 private:
  // The hash a (business unit, email) pair is kept by; collisions only cost a read.
  static std::uint64_t hash(PersonKey email) noexcept;
  // The scan thread's work; its findings, or the error, go to the shared fields below.
  void scan(const std::vector<std::string>& primaries);
  bool scan_node(const std::string& node, std::vector<std::uint64_t>& found, std::string& error);
  void stop_scan();

  const RedisConfig redis_;
  const KeySchema& keys_;
  absl::flat_hash_set<std::uint64_t> emails_;
  bool ready_ = false;

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::mutex mutex_;  // guards the two fields below, written by the scan thread
  std::vector<std::uint64_t> found_;
  std::string scan_error_;
};

}  // namespace gk

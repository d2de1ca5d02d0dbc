#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>

#include "common/rules/optout_record.h"
#include "common/store/status_reader.h"
#include "common/util/result.h"

namespace gk::test {

// A StatusSource (gatekeeper/admission/status_source.h) whose statuses the test sets, keyed by
// user id (people not set have no opt-outs). Like the real reader it knows a person only
// after a fetch (then caches them), and after a failed fetch it is disconnected. It can be
// made to fail (store down), to fail at the next fetch only (a store dying mid-batch), and to
// recover.
class FakeStatusSource {
 public:
  void set(const std::string& user_id, const OptOutRecord& status) { statuses_[user_id] = status; }
  void fail() noexcept { connected_ = false; }
  void fail_next_fetch() noexcept { fail_next_fetch_ = true; }
  void recover() noexcept { connected_ = true; }
  // Makes `user_id` known locally, as after an earlier fetch: a cache hit.
  void cache(const std::string& user_id) { cached_.insert(user_id); }
  // Forgets every cached person, as a cache flush does: their next lookup needs a fetch.
  void forget_cached() { cached_.clear(); }

  bool connected() const noexcept { return connected_; }
  bool resolve(const PersonRef& person, OptOutRecord& out);
  void prefetch(const PersonRef&) noexcept { ++prefetches_; }
  void prefetch_probe(const PersonRef&) noexcept { ++probe_prefetches_; }
  void want(const PersonRef& person);
  Status fetch();
  void end_batch() noexcept { ++batches_; }

  std::size_t fetches() const noexcept { return fetches_; }
  std::size_t failed_fetches() const noexcept { return failed_fetches_; }
  std::size_t batches() const noexcept { return batches_; }
  std::size_t resolved() const noexcept { return resolved_; }
  std::size_t prefetches() const noexcept { return prefetches_; }
  std::size_t probe_prefetches() const noexcept { return probe_prefetches_; }

 private:
  std::map<std::string, OptOutRecord> statuses_;
  std::set<std::string> cached_;
  std::set<std::string> wanted_;
  bool connected_ = true;
  bool fail_next_fetch_ = false;
  std::size_t fetches_ = 0;
  std::size_t failed_fetches_ = 0;
  std::size_t batches_ = 0;
  std::size_t resolved_ = 0;
  std::size_t prefetches_ = 0;
  std::size_t probe_prefetches_ = 0;
};

}  // namespace gk::test

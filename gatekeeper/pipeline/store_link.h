#pragma once

#include <chrono>
#include <string>

#include "common/config/config.h"
#include "common/store/address_book.h"
#include "common/store/status_reader.h"
#include "common/util/result.h"
#include "gatekeeper/admission/pipeline_stats.h"
#include "gatekeeper/ops/health.h"

namespace gk {

// The loop's connection to the status store: connecting with exponential backoff, probing an
// idle link, reacting to a failure, and publishing the reader's counters. Reads the loop's
// config on every call, so reloaded settings apply at once.
class StoreLink {
 public:
  using Clock = std::chrono::steady_clock;

  StoreLink(StatusReader& reader, const Config& config, PipelineStats& stats, Health& health);

  // Connects if disconnected and the backoff allows it.
  void ensure_connected(Clock::time_point now);
  // An idle loop would not notice a dead store until the next message: probe it now and then.
  // On a cluster the probe also re-reads the slot map and follows it with the links. Every
  // call also keeps the reader's email index going. `loop_caught_up`: the loop's last batch
  // emptied the ingress (AdmissionFlow::caught_up), see probe_due.
  void probe_if_due(Clock::time_point now, bool loop_caught_up);
  // Drops the links after a store error; the next ensure_connected() tries again at once.
  void on_failure(const std::string& error);
  void publish_stats();

 private:
  StatusReader& reader_;
  const Config& config_;
  PipelineStats& stats_;
  Health& health_;
  Clock::time_point next_connect_{};
  std::chrono::milliseconds backoff_;
  Clock::time_point last_check_{};
};

// Whether the store's probe is due, `since` the last one. The probe is a round trip the
// message loop waits for: in the middle of a burst, every message still queued behind it
// would wait too. So once `interval` has passed it waits for a turn in which the loop has
// caught up with its ingress, but never past a second interval, so that a loop that never
// catches up still probes.
constexpr bool probe_due(StoreLink::Clock::duration since, StoreLink::Clock::duration interval,
                         bool loop_caught_up) noexcept {
  return since > interval && (loop_caught_up || since > 2 * interval);
}

// The StatusSource (status_source.h) the loop uses: the reader, with failures reported to the
// link and counters published per batch. All inline: this sits on the per-message path.
class StoreStatusSource {
 public:
  StoreStatusSource(StatusReader& reader, StoreLink& link, PipelineStats& stats,
                    const AddressCheck& addresses)
      : reader_(reader), link_(link), stats_(stats), addresses_(addresses) {}

  // Not until the address book is in step too: a message is not decided without the
  // suppressed addresses and tombstones (fail closed), it waits as for a store outage.
  bool connected() const noexcept { return reader_.connected() && addresses_.ready(); }
  bool resolve(const PersonRef& person, OptOutRecord& out) { return reader_.resolve(person, out); }
  void prefetch(const PersonRef& person) { reader_.prefetch(person); }
  void prefetch_probe(const PersonRef& person) { reader_.prefetch_probe(person); }
  void want(const PersonRef& person) { reader_.want(person); }
  Status fetch() {
    const auto start = std::chrono::steady_clock::now();
    Status fetched = reader_.fetch();
    stats_.redis_round_trip.record(std::chrono::steady_clock::now() - start);
    if (!fetched) link_.on_failure(fetched.error());
    return fetched;
  }
  void end_batch() {
    reader_.end_batch();
    link_.publish_stats();
  }

 private:
  StatusReader& reader_;
  StoreLink& link_;
  PipelineStats& stats_;
  const AddressCheck& addresses_;
};

}  // namespace gk

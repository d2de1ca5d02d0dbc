#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "common/rules/channels.h"
#include "common/protocol/events.h"
#include "common/util/timestamp.h"
#include "gatekeeper/management/management_metrics.h"
#include "gatekeeper/management/status_service.h"

namespace gk {

class AddressService;
class ErasureService;

// What became of one event of a body.
struct EventOutcome {
  enum class Status { kAccepted, kRejected, kStoreUnavailable };
  Status status = Status::kAccepted;
  bool changed = false;
};

// How hard to try when the store fails: the HTTP API answers 503 at once and lets the
// client retry; the events socket has no one to answer, so it retries with backoff.
struct RetryPolicy {
  int attempts = 1;
  std::chrono::milliseconds initial_backoff{0};
  std::chrono::milliseconds max_backoff{0};
  const std::atomic<bool>* stop = nullptr;  // set: give up waiting at shutdown
};

// Turns a parsed event body into status writes and system events, the same for both ways
// events arrive (ZeroMQ socket, POST /events). Events are applied in body order; the first
// store failure (after retries) stops the body, since later events may depend on it.
class EventProcessor {
 public:
  EventProcessor(const ChannelRegistry& channels, StatusService& status,
                 ManagementMetrics& metrics);

  // One outcome per event, in body order. `received` is the time of receipt, the time of
  // every event that carries no `timestamp`.
  std::vector<EventOutcome> process(const EventBody& body, EpochMs received,
                                    const RetryPolicy& retry);

  // Address events (section 11) and the Opt In that lifts an erasure (section 13) need
  // these; without them, those events are only republished. Call before events flow.
  void attach(AddressService* addresses, ErasureService* erasure) {
    addresses_ = addresses;
    erasure_ = erasure;
  }

 private:
  std::optional<StatusWriteResult> write_with_retry(const StatusWrite& write,
                                                    const RetryPolicy& retry);
  void publish(const Identity& who, const Event& event, std::string_view name,
               std::string_view channel, EpochMs ts, bool changed);
  void count(const Event& event, std::string_view result);

  const ChannelRegistry& channels_;
  StatusService& status_;
  ManagementMetrics& metrics_;
  AddressService* addresses_ = nullptr;
  ErasureService* erasure_ = nullptr;
};

}  // namespace gk

#pragma once

#include <string>
#include <vector>

#include "common/protocol/events.h"
#include "common/rules/channels.h"
#include "common/util/timestamp.h"
#include "gatekeeper/management/management_metrics.h"
#include "gatekeeper/management/status_service.h"

namespace gk {

class AddressService;

// What became of one event of a body.
struct EventOutcome {
  enum class Status { kAccepted, kRejected, kStoreUnavailable };
  Status status = Status::kAccepted;
  bool changed = false;
  bool timestamp_clamped = false;  // dated past the bound: stored with the time of receipt
  bool link_refused = false;       // the email was not linked (identity.max_emails_per_user)
};

// Turns a parsed event body into status changes (StatusService::apply), the same for both
// ways events arrive (ZeroMQ socket, POST /events). Events are applied in body order; the first
// store failure (after retries) stops the body, since later events may depend on it.
class EventProcessor {
 public:
  EventProcessor(const ChannelRegistry& channels, StatusService& status,
                 ManagementMetrics& metrics);

  // One outcome per event, in body order. `received` is the time of receipt, the time of
  // every event that carries no `timestamp`.
  std::vector<EventOutcome> process(const EventBody& body, EpochMs received,
                                    const RetryPolicy& retry);

  // Address events (PROTOCOL.md 11) change address suppressions through `addresses`; without
  // one they are only republished. Call before events flow.
  void attach(AddressService* addresses) { addresses_ = addresses; }

 private:
  void count(const Event& event, std::string_view result);

  const ChannelRegistry& channels_;
  StatusService& status_;
  ManagementMetrics& metrics_;
  AddressService* addresses_ = nullptr;
};

}  // namespace gk

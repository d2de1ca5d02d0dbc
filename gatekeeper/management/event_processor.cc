#include "gatekeeper/management/event_processor.h"

#include <algorithm>

#include "gatekeeper/management/address_service.h"

namespace gk {

namespace {

// The `event` label: known names as themselves, anything else "other", so a sender cannot
// grow the metric without bound.
std::string_view metric_name(const Event& event) {
  return event.kind == EventKind::kOther ? std::string_view("other") : std::string_view(event.name);
}

}  // namespace

EventProcessor::EventProcessor(const ChannelRegistry& channels, StatusService& status,
                               ManagementMetrics& metrics)
    : channels_(channels), status_(status), metrics_(metrics) {}

void EventProcessor::count(const Event& event, std::string_view result) {
  metrics_.events.Add({{"event", std::string(metric_name(event))}, {"result", std::string(result)}})
      .Increment();
}

std::vector<EventOutcome> EventProcessor::process(const EventBody& body, EpochMs received,
                                                  const RetryPolicy& retry) {
  using Status = EventOutcome::Status;
  std::vector<EventOutcome> outcomes(body.events.size());
  const Identity& who = body.identity;
  bool failed = false;

  const bool any_accepted = std::any_of(body.events.begin(), body.events.end(),
                                        [](const Event& e) { return e.accepted(); });
  // A body naming both an external id and an email links them (PROTOCOL.md 2), even when
  // none of its events changes a status.
  bool link_refused = false;
  if (any_accepted && !who.external_id.empty() && !who.email.empty()) {
    const auto linked = status_.link(who.bu, who.external_id, who.email, "event", retry);
    failed = !linked;
    link_refused = linked && linked->link_refused;
  }

  for (std::size_t i = 0; i < body.events.size(); ++i) {
    const Event& event = body.events[i];
    EventOutcome& out = outcomes[i];
    if (!event.accepted()) {
      out.status = Status::kRejected;
      count(event, "rejected");
      continue;
    }
    if (failed) {
      out.status = Status::kStoreUnavailable;
      count(event, "store_unavailable");
      continue;
    }
    ChangeRequest c;
    c.bu = who.bu;
    c.external_id = who.external_id;
    c.email = who.email;
    c.ts = event.timestamp.value_or(received);
    c.received = received;
    c.source = std::string(event_source(event));
    c.event = event.name;
    c.properties = event.properties;
    c.channel = event.channel;
    c.topic = event.topic;
    c.link_refused = link_refused;
    // ESP feedback is also a platform opt-out: subscribers of `Opt Out` must hear of it.
    if (event.kind == EventKind::kMailUnsubscribe) c.also_published = std::string(kOptOutEvent);
    if (auto change = status_change(event, channels_)) {
      c.field = change->field;
      c.value = change->value;
      if (change->field != kBlacklistField && event.topic.empty()) c.channel = change->field;
    }
    bool address_changed = false;
    if (addresses_ != nullptr && address_event(event.kind)) {
      // The address's own change first; the event itself is republished below either way.
      if (auto change = addresses_->change_of(event, who, c.ts)) {
        const auto done = addresses_->apply(*change);
        address_changed = done && done->write.changed;
        if (!done) {
          failed = true;
          out.status = Status::kStoreUnavailable;
          count(event, "store_unavailable");
          continue;
        }
        if (done->erased) {
          // Accepted, but an event naming an erased address is not republished either
          // (PROTOCOL.md 13): it would put the address back into the stream.
          out.status = Status::kAccepted;
          count(event, "accepted");
          continue;
        }
      }
    }
    const auto applied = status_.apply(c, retry);
    if (!applied) {
      failed = true;
      out.status = Status::kStoreUnavailable;
      count(event, "store_unavailable");
      continue;
    }
    out.status = Status::kAccepted;
    out.changed = applied->write.changed || address_changed;
    out.timestamp_clamped = applied->timestamp_clamped;
    out.link_refused = applied->link_refused;
    count(event, "accepted");
  }
  return outcomes;
}

}  // namespace gk

#include "gatekeeper/management/event_processor.h"

#include <algorithm>
#include <thread>

#include "common/protocol/system_event.h"

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

std::optional<StatusWriteResult> EventProcessor::write_with_retry(const StatusWrite& write,
                                                                  const RetryPolicy& retry) {
  auto backoff = retry.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    std::string error;
    if (auto result = status_.write(write, error)) return result;
    if (attempt >= retry.attempts) return std::nullopt;
    // Sleep in short steps so shutdown is not held up by a long backoff.
    const auto until = std::chrono::steady_clock::now() + backoff;
    while (std::chrono::steady_clock::now() < until) {
      if (retry.stop != nullptr && retry.stop->load()) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    backoff = std::min(backoff * 2, retry.max_backoff);
  }
}

void EventProcessor::publish(const Identity& who, const Event& event, std::string_view name,
                             std::string_view channel, EpochMs ts, const EventOutcome& outcome) {
  SystemEvent e;
  e.event = std::string(name);
  e.id = who.external_id;
  e.email = who.email;
  e.bu = who.bu;
  e.channel = std::string(channel);
  e.topic = event.topic;
  e.timestamp = ts;
  e.source = std::string(event_source(event));
  e.changed = outcome.changed;
  e.properties = event.properties;
  e.timestamp_clamped = outcome.timestamp_clamped;
  e.link_refused = outcome.link_refused;
  status_.publish(e);
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
    StatusWrite link;
    link.bu = who.bu;
    link.external_id = who.external_id;
    link.email = who.email;
    link.source = "event";
    const auto linked = write_with_retry(link, retry);
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
    // Clamped here rather than only in the write, so that events that change no status are
    // published with a sane time too.
    const EpochMs ts = status_.change_time(event.timestamp.value_or(received), received,
                                           event_source(event), out.timestamp_clamped);
    out.link_refused = link_refused;
    std::string channel = event.channel;
    if (auto change = status_change(event, channels_)) {
      StatusWrite w;
      w.bu = who.bu;
      w.external_id = who.external_id;
      w.email = who.email;
      w.field = change->field;
      w.value = change->value;
      w.ts = ts;
      w.received = received;
      w.source = std::string(event_source(event));
      w.event = event.name;
      w.properties = safe_dump(event.properties);
      auto result = write_with_retry(w, retry);
      if (!result) {
        failed = true;
        out.status = Status::kStoreUnavailable;
        count(event, "store_unavailable");
        continue;
      }
      out.changed = result->changed;
      out.link_refused = out.link_refused || result->link_refused;
      if (change->field != kBlacklistField && event.topic.empty()) channel = change->field;
    }
    out.status = Status::kAccepted;
    count(event, "accepted");
    publish(who, event, event.name, channel, ts, out);
    // ESP feedback is also a platform opt-out: subscribers of `Opt Out` must hear of it.
    if (event.kind == EventKind::kMailUnsubscribe) {
      publish(who, event, kOptOutEvent, channel, ts, out);
    }
  }
  return outcomes;
}

}  // namespace gk

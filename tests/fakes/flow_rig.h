#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/config.h"
#include "common/rules/channels.h"
#include "gatekeeper/admission/admission_flow.h"
#include "gatekeeper/admission/pipeline_stats.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_outlets.h"
#include "tests/fakes/fake_status_source.h"

namespace gk::test {

// Channels MAIL (index 0) and SMS (index 1); small batches, queue bounds and deadlines so a
// test reaches every edge with a handful of messages.
inline Config flow_config() {
  Config c;
  ChannelConfig mail;
  mail.name = "MAIL";
  mail.aliases = {"EMAIL"};
  ChannelConfig sms;
  sms.name = "SMS";
  c.channels = {mail, sms};
  c.ingress.batch_size = 8;
  c.egress.channel_backlog = 3;
  c.on_store_unavailable.hold_max_messages = 100;
  c.on_store_unavailable.hold_max_wait_ms = 1000;
  return c;
}

inline constexpr std::size_t kMail = 0;
inline constexpr std::size_t kSms = 1;

// An AdmissionFlow on fakes, with the ingress in front of it and a turn() that runs one turn
// of MessagePipeline::run in the same order, the sockets' readiness being the fakes' state
// (an ingress with messages is readable, an adapter that is not blocked is writable).
struct FlowRig {
  using Flow = AdmissionFlow<FakeStatusSource, FakeClock, FakeOutlets>;

  explicit FlowRig(Config c = flow_config())
      : config(std::move(c)),
        channels(config.channels, config.topics),
        outlets(channels.routable_count()),
        flow(config, channels, store, clock, outlets, stats) {}

  // Queues a message for user `user` on `channel`, its payload = its id.
  void send(const std::string& id, const std::string& user, const std::string& channel = "MAIL",
            const nlohmann::json& extra = {{"to", "a@x"}}) {
    nlohmann::json h = {{"id", id}, {"channel", channel}, {"user", {{"id", user}}}};
    for (const auto& [k, v] : extra.items()) h[k] = v;
    ingress.push(message_frames(h, id));
  }
  void take_batch() {
    flow.take_batch(
        [this](std::vector<zmq::message_t>& frames) { return ingress.receive(frames); });
  }

  // One turn of the loop; true when a drain may end.
  bool turn() {
    const auto now = clock.now();
    if (flow.may_retry_held()) flow.retry_held();
    flow.expire_held(now);
    const bool poll_ingress = !flow.paused();
    for (std::size_t c = 0; c < channels.routable_count(); ++c) {
      if (flow.backlog_waiting(c) > 0 && !outlets.blocked(c)) flow.flush_backlog(c);
    }
    if (poll_ingress && ingress.waiting() > 0) {
      take_batch();
      return false;
    }
    return flow.draining() && flow.drained(poll_ingress);
  }

  // received = what left + what is still inside (held, backlog).
  bool conserved() const {
    const auto out = stats.forwarded.get() + stats.suppressed.get() + stats.rejected.get();
    return stats.received.get() == out + flow.held() + flow.backlog_total() &&
           out == outlets.exits().size();
  }

  Config config;
  ChannelRegistry channels;
  FakeStatusSource store;
  FakeClock clock;
  FakeOutlets outlets;
  PipelineStats stats;
  FakeIngress ingress;
  Flow flow;
};

inline OptOutRecord opted_out_of_all() {
  OptOutRecord r;
  r.all = true;
  return r;
}

inline std::vector<std::string> ids(const std::string& prefix, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

}  // namespace gk::test

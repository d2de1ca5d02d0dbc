#include "gatekeeper/metrics.h"

#include <prometheus/text_serializer.h>

#include <limits>

namespace gk {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  return MetricFamily{std::move(name), std::move(help), type, {}};
}

void add(MetricFamily& f, double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

}  // namespace

Metrics::Metrics(const PipelineStats& pipeline, const Health& health,
                 const ChannelRegistry& channels)
    : pipeline_(pipeline),
      health_(health),
      channels_(channels),
      registry_(std::make_shared<prometheus::Registry>()) {}

std::string Metrics::render() const {
  std::vector<MetricFamily> families;
  const PipelineStats& s = pipeline_;
  for (const ScalarStat& stat : kPipelineScalars) {
    auto f = family(std::string(stat.name), std::string(stat.help),
                    stat.kind == StatKind::kCounter ? MetricType::Counter : MetricType::Gauge);
    add(f, static_cast<double>((s.*stat.member).get()));
    families.push_back(std::move(f));
  }

  auto by_reason = family("gk_decisions_total",
                          "Messages by verdict, reason and channel (reason \"\" = forwarded).",
                          MetricType::Counter);
  for (std::size_t c = 0; c <= kMaxChannelTypes; ++c) {
    const bool known = c < channels_.routable_count();
    if (!known && c != kMaxChannelTypes) continue;
    const std::string channel = known ? channels_.name(c) : std::string();
    for (std::size_t r = 0; r < kReasonCount; ++r) {
      const auto v = s.by_channel_reason[c][r].get();
      if (v == 0) continue;
      const auto reason = static_cast<Reason>(r);
      std::string reason_text(to_string(reason));
      if (reason == Reason::kOptOutChannel) reason_text += ":" + channel;
      const bool fwd = reason == Reason::kNone;
      const bool suppressed = is_suppression(reason);
      add(by_reason, static_cast<double>(v),
          {{"channel", channel},
           {"reason", reason_text},
           {"verdict", fwd ? "forwarded" : (suppressed ? "suppressed" : "rejected")}});
    }
  }
  families.push_back(std::move(by_reason));

  auto histogram = [&](const char* name, const char* help, const LatencyHistogram& h) {
    auto f = family(name, help, MetricType::Histogram);
    ClientMetric m;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= LatencyHistogram::kBoundsUs.size(); ++i) {
      cumulative += h.bucket(i);
      ClientMetric::Bucket b;
      b.cumulative_count = cumulative;
      b.upper_bound = i < LatencyHistogram::kBoundsUs.size()
                          ? static_cast<double>(LatencyHistogram::kBoundsUs[i]) / 1e6
                          : std::numeric_limits<double>::infinity();
      m.histogram.bucket.push_back(b);
    }
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = static_cast<double>(h.sum_ns()) / 1e9;
    f.metric.push_back(std::move(m));
    families.push_back(std::move(f));
  };
  histogram("gk_redis_round_trip_seconds",
            "Time of one pipelined status lookup from the message loop (all its rounds).",
            s.redis_round_trip);
  histogram("gk_decision_latency_seconds",
            "From taking a message off the socket to forwarding or reporting it.",
            s.decision_latency);
  auto up = family("gk_redis_up", "1 when the message loop's Redis links are connected.",
                   MetricType::Gauge);
  add(up, health_.redis_up.load() ? 1.0 : 0.0);
  families.push_back(std::move(up));

  auto collected = registry_->Collect();
  families.insert(families.end(), std::make_move_iterator(collected.begin()),
                  std::make_move_iterator(collected.end()));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace gk

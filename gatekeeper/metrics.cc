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
  auto counter = [&](const char* name, const char* help, const LocalCounter& c) {
    auto f = family(name, help, MetricType::Counter);
    add(f, static_cast<double>(c.get()));
    families.push_back(std::move(f));
  };
  auto gauge = [&](const char* name, const char* help, double v) {
    auto f = family(name, help, MetricType::Gauge);
    add(f, v);
    families.push_back(std::move(f));
  };
  counter("gk_messages_received_total", "Candidate messages taken from the ingress socket.",
          s.received);
  counter("gk_messages_forwarded_total", "Messages forwarded to a channel adapter.", s.forwarded);
  counter("gk_messages_suppressed_total", "Messages suppressed by a person's status.",
          s.suppressed);
  counter("gk_messages_rejected_total", "Messages rejected (malformed, unknown channel, ...).",
          s.rejected);
  gauge("gk_messages_held", "Messages waiting for the status store.",
        static_cast<double>(s.held.get()));
  counter("gk_messages_held_total", "Messages that had to wait for the status store.",
          s.held_total);
  gauge("gk_messages_backlog", "Permitted messages waiting for a full or absent channel adapter.",
        static_cast<double>(s.backlog.get()));
  counter("gk_intake_pauses_total", "Times intake paused because an adapter backlog was full.",
          s.intake_pauses);

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
      const bool suppressed = reason == Reason::kOptOutAll || reason == Reason::kOptOutChannel ||
                              reason == Reason::kBlacklisted || reason == Reason::kErased ||
                              reason == Reason::kAddressBounce ||
                              reason == Reason::kAddressComplaint ||
                              reason == Reason::kAddressSmsStop || reason == Reason::kAddressManual;
      add(by_reason, static_cast<double>(v),
          {{"channel", channel},
           {"reason", reason_text},
           {"verdict", fwd ? "forwarded" : (suppressed ? "suppressed" : "rejected")}});
    }
  }
  families.push_back(std::move(by_reason));

  counter("gk_cache_hits_total", "Status lookups answered by the in-process cache.", s.cache_hits);
  counter("gk_cache_misses_total", "Status lookups that needed Redis.", s.cache_misses);
  gauge("gk_cache_entries", "Redis keys held in the in-process cache.",
        static_cast<double>(s.cache_entries.get()));
  counter("gk_cache_invalidations_total", "Keys evicted by Redis invalidation messages.",
          s.cache_invalidations);
  counter("gk_cache_flushes_total", "Whole-cache clears (invalidation link lost, FLUSHALL).",
          s.cache_flushes);
  counter("gk_cache_evictions_total", "Records dropped to stay within cache.max_entries.",
          s.cache_evictions);
  counter("gk_redis_fetch_rounds_total", "Pipelined Redis lookup rounds.", s.redis_fetch_rounds);
  counter("gk_redis_keys_fetched_total", "Redis keys read by cache-miss lookups.",
          s.redis_keys_fetched);
  counter("gk_redis_moved_total", "Cluster: lookups redirected by MOVED (a slot had moved).",
          s.redis_moved);
  counter("gk_redis_ask_total", "Cluster: lookups redirected by ASK (a slot was migrating).",
          s.redis_ask);
  counter("gk_redis_tryagain_total", "Cluster: lookups retried after TRYAGAIN.", s.redis_tryagain);
  counter("gk_redis_cluster_topology_changes_total",
          "Cluster: slot map or node set changes seen by the lookup path.",
          s.cluster_topology_changes);
  counter("gk_redis_cluster_link_errors_total",
          "Cluster: invalidation links to replicas that could not be opened (retried).",
          s.cluster_link_errors);
  counter("gk_http_queue_overflows_total",
          "HTTP connections served by the accepting thread because every worker was busy.",
          s.http_queue_overflows);
  counter("gk_config_reloads_total", "Configuration reloads applied (SIGHUP).", s.config_reloads);
  counter("gk_config_reload_failures_total",
          "Reloads refused because the file did not load; the running config stayed.",
          s.config_reload_failures);
  counter("gk_curve_clients_admitted_total", "CURVE handshakes admitted by the allow-list.",
          s.curve_admitted);
  counter("gk_curve_clients_refused_total", "CURVE clients refused: key not on the allow-list.",
          s.curve_refused);
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
  counter("gk_redis_errors_total", "Redis connection or command failures.", s.store_errors);
  counter("gk_redis_connects_total", "Successful (re)connections of the lookup links.",
          s.reconnects);
  gauge("gk_redis_up", "1 when the message loop's Redis links are connected.",
        health_.redis_up.load() ? 1.0 : 0.0);

  auto collected = registry_->Collect();
  families.insert(families.end(), std::make_move_iterator(collected.begin()),
                  std::make_move_iterator(collected.end()));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace gk

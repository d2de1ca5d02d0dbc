#pragma once

#include <memory>
#include <string>

#include <prometheus/registry.h>

#include "common/rules/channels.h"
#include "gatekeeper/admission/pipeline_stats.h"
#include "gatekeeper/http/http_server.h"

namespace gk {

// The /metrics page: the message loop's own counters (kept as single-writer atomics so the
// hot path never takes a lock) plus a prometheus-cpp registry for the slower paths (API,
// events), rendered together in the Prometheus text format.
class Metrics final : public MetricsSource {
 public:
  Metrics(const PipelineStats& pipeline, const Health& health, const ChannelRegistry& channels);

  prometheus::Registry& registry() noexcept { return *registry_; }
  std::string render() const override;

 private:
  const PipelineStats& pipeline_;
  const Health& health_;
  const ChannelRegistry& channels_;
  std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace gk

#pragma once

#include <atomic>
#include <memory>

#include <zmq.hpp>

#include "common/config/config.h"
#include "common/rules/channels.h"
#include "gatekeeper/admission/pipeline_stats.h"
#include "gatekeeper/api/http_api.h"
#include "gatekeeper/http/http_server.h"
#include "gatekeeper/management/address_service.h"
#include "gatekeeper/management/erasure_service.h"
#include "gatekeeper/management/event_consumer.h"
#include "gatekeeper/management/event_processor.h"
#include "gatekeeper/management/management_metrics.h"
#include "gatekeeper/management/status_service.h"
#include "gatekeeper/metrics.h"
#include "gatekeeper/ops/curve.h"
#include "gatekeeper/pipeline/message_pipeline.h"

namespace gk {

// Owns every part of a running gatekeeper and the order they start and stop in: sockets
// bound before readiness, HTTP last up and first down, the message loop drained before the
// ZeroMQ context closes (so lingering outlets flush).
class Server {
 public:
  explicit Server(Config config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds sockets and the HTTP listener; throws std::runtime_error naming what failed.
  void start();
  // Runs the message loop on the calling thread until `stop` is set, then drains.
  void run(const std::atomic<bool>& stop);

  // Applies the reloadable settings of `loaded` (SIGHUP); names in a warning what changed but
  // needs a restart. Call from one thread at a time (the signal thread).
  void reload(const Config& loaded);
  // A reload whose file did not load: counted, the running config stays.
  void reload_failed();

  int http_port() const noexcept { return http_port_; }
  const PipelineStats& stats() const noexcept { return stats_; }

 private:
  const Config config_;
  ChannelRegistry channels_;
  PipelineStats stats_;
  Health health_;
  zmq::context_t context_;
  Metrics metrics_;
  ManagementMetrics management_metrics_;
  std::unique_ptr<ZapHandler> zap_;  // only with CURVE
  std::unique_ptr<MessagePipeline> pipeline_;
  // Status management: one service shared by the events socket and the API.
  std::unique_ptr<StatusService> status_;
  // Address suppressions (and erasure) share one Redis link of their own.
  std::unique_ptr<SharedRouter> shared_router_;
  std::unique_ptr<AddressService> addresses_;
  std::unique_ptr<ErasureService> erasure_;
  std::unique_ptr<EventProcessor> processor_;
  std::unique_ptr<EventConsumer> consumer_;
  std::unique_ptr<HttpApi> api_;
  std::unique_ptr<HttpServer> http_;
  int http_port_ = 0;
  ConfigPtr current_;  // what the last reload applied; only the signal thread touches it
};

}  // namespace gk

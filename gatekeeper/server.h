#pragma once

#include <atomic>
#include <memory>

#include <zmq.hpp>

#include "common/channels.h"
#include "common/config.h"
#include "gatekeeper/http_server.h"
#include "gatekeeper/message_pipeline.h"
#include "gatekeeper/metrics.h"
#include "gatekeeper/pipeline_stats.h"

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

  int http_port() const noexcept { return http_port_; }
  const PipelineStats& stats() const noexcept { return stats_; }

 private:
  const Config config_;
  ChannelRegistry channels_;
  PipelineStats stats_;
  Health health_;
  zmq::context_t context_;
  Metrics metrics_;
  std::unique_ptr<MessagePipeline> pipeline_;
  std::unique_ptr<HttpServer> http_;
  int http_port_ = 0;
};

}  // namespace gk

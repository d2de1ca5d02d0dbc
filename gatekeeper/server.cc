#include "gatekeeper/server.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace gk {

Server::Server(Config config)
    : config_(std::move(config)),
      channels_(config_.channels),
      context_(1),
      metrics_(stats_, health_, channels_) {}

Server::~Server() {
  if (http_) http_->stop();
  pipeline_.reset();
  context_.close();
}

void Server::start() {
  pipeline_ = std::make_unique<MessagePipeline>(config_, context_, stats_, health_);
  try {
    pipeline_->bind();
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(std::string("cannot bind a ZeroMQ endpoint: ") + e.what() +
                             " (check ingress.*, egress.* and channels.*.endpoint)");
  }
  health_.sockets_bound = true;
  http_ = std::make_unique<HttpServer>(config_.http, health_, metrics_);
  http_port_ = http_->start();
  spdlog::info("gatekeeper {} listening: messages {} decisions {} http {}:{}", GK_VERSION,
               config_.ingress.messages, config_.egress.decisions, config_.http.host, http_port_);
}

void Server::run(const std::atomic<bool>& stop) {
  pipeline_->run(stop);
  health_.sockets_bound = false;
}

}  // namespace gk

#include "gatekeeper/server.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "common/config/config_reload.h"
#include "gatekeeper/ops/logging.h"

namespace gk {

Server::Server(Config config)
    : config_(std::move(config)),
      channels_(config_.channels, config_.topics),
      context_(1),
      metrics_(stats_, health_, channels_),
      management_metrics_(metrics_.registry()) {}

Server::~Server() {
  if (http_) http_->stop();
  // Every socket closes before the context, which otherwise waits for them forever.
  consumer_.reset();
  api_.reset();
  processor_.reset();
  addresses_.reset();
  erasure_.reset();
  shared_router_.reset();
  status_.reset();
  pipeline_.reset();
  zap_.reset();
  context_.close();
}

void Server::start() {
  std::string curve_secret;
  if (config_.curve.enabled) {
    CurveKeys keys = load_curve_keys(config_.curve);
    curve_secret = keys.secret_z85;
    spdlog::info("CURVE on the ingress sockets, {} allowed client keys", keys.allowed.size());
    zap_ = std::make_unique<ZapHandler>(context_, std::move(keys), stats_.curve_admitted,
                                        stats_.curve_refused);
  }
  pipeline_ = std::make_unique<MessagePipeline>(config_, context_, stats_, health_);
  try {
    pipeline_->bind(curve_secret);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(std::string("cannot bind a ZeroMQ endpoint: ") + e.what() +
                             " (check ingress.*, egress.* and channels.*.endpoint)");
  }
  status_ = std::make_unique<StatusService>(config_, context_, management_metrics_);
  processor_ = std::make_unique<EventProcessor>(channels_, *status_, management_metrics_);
  shared_router_ = std::make_unique<SharedRouter>(config_.redis);
  addresses_ = std::make_unique<AddressService>(config_, channels_, *status_, *shared_router_);
  erasure_ = std::make_unique<ErasureService>(config_, *shared_router_);
  status_->set_erasure(erasure_.get());
  processor_->attach(addresses_.get());
  consumer_ = std::make_unique<EventConsumer>(config_, context_, channels_, *processor_,
                                              management_metrics_);
  try {
    status_->bind();
    consumer_->bind(curve_secret);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(std::string("cannot bind a ZeroMQ endpoint: ") + e.what() +
                             " (check ingress.events and egress.events)");
  }
  health_.sockets_bound = true;
  http_ =
      std::make_unique<HttpServer>(config_.http, health_, metrics_, stats_.http_queue_overflows);
  api_ = std::make_unique<HttpApi>(config_, channels_, *status_, *processor_, management_metrics_);
  api_->attach(addresses_.get(), erasure_.get());
  api_->register_routes(http_->server());
  consumer_->start();
  http_port_ = http_->start();
  spdlog::info("gatekeeper {} listening: messages {} decisions {} http {}:{}", GK_VERSION,
               config_.ingress.messages, config_.egress.decisions, config_.http.host, http_port_);
}

void Server::run(const std::atomic<bool>& stop) {
  pipeline_->run(stop);
  consumer_->stop();
  health_.sockets_bound = false;
}

void Server::reload(const Config& loaded) {
  if (!current_) current_ = std::make_shared<const Config>(config_);
  for (const auto& key : restart_only_changes(*current_, loaded)) {
    spdlog::warn("reload: {} changed; it takes effect only after a restart", key);
  }
  auto merged = std::make_shared<const Config>(merge_reloadable(*current_, loaded));
  if (api_) {
    try {
      api_->reload_tokens(merged->http);
    } catch (const std::exception& e) {
      spdlog::error("reload refused, keeping the running config: {}", e.what());
      stats_.config_reload_failures.add();
      return;
    }
  }
  apply_log_settings(merged->log);
  if (pipeline_) pipeline_->request_reload(merged);
  current_ = merged;
  stats_.config_reloads.add();
  spdlog::info("reload: configuration applied");
}

void Server::reload_failed() {
  stats_.config_reload_failures.add();
}

}  // namespace gk

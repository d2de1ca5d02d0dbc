#include "gatekeeper/ops/http_server.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>

#include "gatekeeper/ops/bounded_task_queue.h"

#include "common/protocol/system_event.h"

namespace gk {

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  // safe_dump: the message may echo request bytes (a header value) that are not UTF-8.
  res.set_content(safe_dump(nlohmann::json{{"error", message}}), "application/json");
}

HttpServer::HttpServer(const HttpConfig& config, const Health& health, const MetricsSource& metrics,
                       LocalCounter& queue_overflows)
    : config_(config), health_(health), metrics_(metrics) {
  const auto threads = static_cast<std::size_t>(config.threads);
  const std::size_t max_queued = config.max_queued_connections;
  // httplib takes ownership of the queue it is handed.
  server_.new_task_queue = [threads, max_queued, &queue_overflows] {
    return std::make_unique<BoundedTaskQueue>(threads, max_queued, queue_overflows).release();
  };
  server_.set_payload_max_length(config.max_body_bytes);
  server_.set_read_timeout(config.read_timeout_ms / 1000, (config.read_timeout_ms % 1000) * 1000);
  server_.set_write_timeout(config.write_timeout_ms / 1000,
                            (config.write_timeout_ms % 1000) * 1000);
  server_.set_keep_alive_max_count(100);
  // An idle connection (keep-alive, or one that never sends) holds a worker; let it go after
  // the read timeout (whole seconds for this setting, at least one).
  server_.set_keep_alive_timeout(std::max<time_t>(1, (config.read_timeout_ms + 999) / 1000));
  // Headers and body go out in separate writes; with Nagle on, a client that waits for
  // both sees delayed-ACK stalls of tens of milliseconds.
  server_.set_tcp_nodelay(true);

  server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  server_.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const bool redis = health_.redis_up.load();
    const bool sockets = health_.sockets_bound.load();
    const bool stopping = health_.stopping.load();
    const bool ready = redis && sockets && !stopping;
    res.status = ready ? 200 : 503;
    nlohmann::json body{
        {"ready", ready}, {"redis", redis}, {"sockets", sockets}, {"stopping", stopping}};
    res.set_content(body.dump(), "application/json");
  });
  server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(), "text/plain; version=0.0.4");
  });
  server_.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    // Only fill in a body when the handler left none (404 for unknown routes, 413, ...).
    if (!res.body.empty()) return;
    std::string message = res.status == 404   ? "no such endpoint"
                          : res.status == 413 ? "request body too large"
                          : res.status == 405 ? "method not allowed"
                                              : "request failed";
    send_error(res, res.status, message);
  });
  server_.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("HTTP {} {} failed: {}", req.method, req.path, what);
        send_error(res, 500, "internal error");
      });
}

HttpServer::~HttpServer() {
  stop();
}

int HttpServer::start() {
  int port = config_.port;
  if (port == 0) {
    port = server_.bind_to_any_port(config_.host);
  } else if (!server_.bind_to_port(config_.host, port)) {
    port = -1;
  }
  if (port < 0) {
    throw std::runtime_error("cannot listen on http.listen = " + config_.listen);
  }
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  return port;
}

void HttpServer::stop() {
  if (thread_.joinable()) {
    server_.stop();
    thread_.join();
  }
}

}  // namespace gk

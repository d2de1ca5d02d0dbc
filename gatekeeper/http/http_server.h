#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <array>
#include <functional>
#include <string>
#include <string_view>

#include "common/config/config.h"
#include "common/util/counters.h"
#include "gatekeeper/http/bounded_task_queue.h"
#include "gatekeeper/http/http_acceptor.h"
#include "gatekeeper/ops/health.h"

namespace gk {

// What /metrics serves: the exposition is assembled above this layer, from every part's stats.
class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  virtual std::string render() const = 0;
};

// The HTTP listener: health, readiness and metrics here; the API registers its routes on
// server() before start(). httplib parses requests and runs the routes, but its own
// listener (a worker per connection from accept on, a timeout per read) lets slow clients
// hold every worker. So connections come in through an HttpAcceptor, which reads heads
// without a thread per connection, and only complete heads reach the workers, which serve
// one request per connection with a deadline for the whole request (docs/RELIABILITY.md,
// "HTTP framing and slow clients"). Health, readiness and metrics have a worker of their
// own, so busy API workers never delay them.
class HttpServer {
 public:
  // The routes this server answers itself (GET, no token): health, readiness, metrics.
  static constexpr std::array<std::string_view, 3> kProbePaths = {"/healthz", "/readyz",
                                                                  "/metrics"};

  // `queue_overflows` counts requests that waited because every worker was busy and the
  // worker queue was full.
  HttpServer(const HttpConfig& config, const Health& health, const MetricsSource& metrics,
             LocalCounter& queue_overflows);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  httplib::Server& server() noexcept { return engine_; }
  // Binds and starts serving on threads of its own; throws std::runtime_error naming the
  // address when it cannot bind. Returns the bound port (useful with port 0).
  int start();
  void stop();

 private:
  // httplib's request processing without its listener.
  class Engine : public httplib::Server {
   public:
    void serve(httplib::Stream& stream);
  };

  bool dispatch(PendingRequest& request);
  void serve(PendingRequest& request) noexcept;

  const HttpConfig& config_;
  const Health& health_;
  const MetricsSource& metrics_;
  Engine engine_;
  HttpAcceptor acceptor_;
  BoundedTaskQueue workers_;
  BoundedTaskQueue probes_;
  bool stopped_ = false;
};

// Writes `{"error": message}` with the status.
void send_error(httplib::Response& res, int status, const std::string& message);
// Writes `body` as JSON with the status (safe_dump: stored values may not be UTF-8).
void send_json(httplib::Response& res, int status, const nlohmann::json& body);

// The error text of every route that needed the status store and could not reach it.
inline constexpr const char* kStoreUnavailable = "status store unavailable";

}  // namespace gk

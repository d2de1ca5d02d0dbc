#pragma once

#include <httplib.h>

#include <functional>
#include <string>
#include <thread>

#include "common/config/config.h"
#include "common/util/counters.h"
#include "gatekeeper/ops/health.h"

namespace gk {

// What /metrics serves: the exposition is assembled above this layer, from every part's stats.
class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  virtual std::string render() const = 0;
};

// The HTTP listener: health, readiness and metrics here; the API registers its routes on
// server() before start(). Bounded: fixed worker threads, body and time limits from config.
class HttpServer {
 public:
  // `queue_overflows` counts connections served by the accepting thread because the
  // worker queue was full (see BoundedTaskQueue).
  HttpServer(const HttpConfig& config, const Health& health, const MetricsSource& metrics,
             LocalCounter& queue_overflows);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  httplib::Server& server() noexcept { return server_; }
  // Binds and starts serving on a thread of its own; throws std::runtime_error naming the
  // address when it cannot bind. Returns the bound port (useful with port 0).
  int start();
  void stop();

 private:
  const HttpConfig& config_;
  const Health& health_;
  const MetricsSource& metrics_;
  httplib::Server server_;
  std::thread thread_;
};

// Writes `{"error": message}` with the status.
void send_error(httplib::Response& res, int status, const std::string& message);

}  // namespace gk

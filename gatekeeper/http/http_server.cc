#include "gatekeeper/http/http_server.h"

#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include <memory>
#include <stdexcept>

#include "gatekeeper/http/bounded_task_queue.h"
#include "gatekeeper/http/deadline_stream.h"

#include "common/protocol/system_event.h"

namespace gk {

namespace {

// The stream of the request this worker thread is serving: the error handler asks it why
// a body could not be read (httplib itself only knows "400").
thread_local const DeadlineStream* t_stream = nullptr;

// Health, readiness and metrics: cheap, and what an orchestrator or a scraper must reach
// while the API workers are busy.
bool is_probe(const RequestHead& head) {
  const auto& probes = HttpServer::kProbePaths;
  return head.method == "GET" && std::find(probes.begin(), probes.end(), head.path) != probes.end();
}

HttpAcceptor::Settings acceptor_settings(const HttpConfig& c) {
  HttpAcceptor::Settings s;
  s.host = c.host;
  s.port = c.port;
  s.max_connections = c.max_connections;
  s.max_header_bytes = c.max_header_bytes;
  s.max_body_bytes = c.max_body_bytes;
  s.header_timeout = std::chrono::milliseconds(c.header_timeout_ms);
  s.park_timeout = std::chrono::milliseconds(c.request_timeout_ms);
  return s;
}

}  // namespace

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  // safe_dump: the message may echo request bytes (a header value) that are not UTF-8.
  res.set_content(safe_dump(nlohmann::json{{"error", message}}), "application/json");
}

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(safe_dump(body), "application/json");
}

void HttpServer::Engine::serve(httplib::Stream& stream) {
  bool connection_closed = false;
  // close_connection: one request per connection, so that every request head passes the
  // acceptor (a keep-alive connection would let later heads trickle into a worker).
  process_request(stream, true, connection_closed, {});
}

HttpServer::HttpServer(const HttpConfig& config, const Health& health, const MetricsSource& metrics,
                       LocalCounter& queue_overflows)
    : config_(config),
      health_(health),
      metrics_(metrics),
      acceptor_(
          acceptor_settings(config), [this](PendingRequest& r) { return dispatch(r); },
          queue_overflows),
      workers_(static_cast<std::size_t>(config.threads), config.max_queued_connections),
      probes_(1, 16) {
  engine_.set_payload_max_length(config.max_body_bytes);

  engine_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  engine_.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const bool redis = health_.redis_up.load();
    const bool sockets = health_.sockets_bound.load();
    const bool stopping = health_.stopping.load();
    const bool addresses = health_.addresses_synced.load();
    const bool ready = redis && sockets && addresses && !stopping;
    res.status = ready ? 200 : 503;
    nlohmann::json body{{"ready", ready},
                        {"redis", redis},
                        {"sockets", sockets},
                        {"addresses", addresses},
                        {"stopping", stopping}};
    res.set_content(body.dump(), "application/json");
  });
  engine_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(), "text/plain; version=0.0.4");
  });
  engine_.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
    // Only fill in a body when the handler left none (404 for unknown routes, 413, ...).
    if (!res.body.empty()) return;
    if (t_stream != nullptr && t_stream->body_too_large()) {
      return send_error(res, 413,
                        "request body too large: over http.max_body_bytes (" +
                            std::to_string(config_.max_body_bytes) + " bytes)");
    }
    if (t_stream != nullptr && t_stream->timed_out()) {
      return send_error(res, 408,
                        "request not received within http.request_timeout_ms (" +
                            std::to_string(config_.request_timeout_ms) + " ms)");
    }
    std::string message = res.status == 404   ? "no such endpoint"
                          : res.status == 413 ? "request body too large"
                          : res.status == 405 ? "method not allowed"
                                              : "request failed";
    send_error(res, res.status, message);
  });
  engine_.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        // The path can hold an external id: personal data stays out of error-level logs.
        spdlog::error("HTTP {} failed: {}", req.method, what);
        spdlog::debug("HTTP {} {} failed", req.method, req.path);
        send_error(res, 500, "internal error");
      });
}

HttpServer::~HttpServer() {
  stop();
}

int HttpServer::start() {
  int port = 0;
  try {
    port = acceptor_.bind();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on http.listen = " + config_.listen + " (" + e.what() +
                             ")");
  }
  acceptor_.start();
  return port;
}

void HttpServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  // The acceptor first: once it has stopped, workers close their sockets themselves.
  acceptor_.stop();
  workers_.shutdown();
  probes_.shutdown();
}

bool HttpServer::dispatch(PendingRequest& request) {
  auto owned = std::make_shared<PendingRequest>(std::move(request));
  std::function<void()> job = [this, owned] { serve(*owned); };
  if ((is_probe(owned->head) ? probes_ : workers_).try_enqueue(job)) return true;
  request = std::move(*owned);
  return false;
}

void HttpServer::serve(PendingRequest& request) noexcept {
  using Clock = DeadlineStream::Clock;
  const RequestHead& head = request.head;
  DeadlineStream::Limits limits;
  switch (head.body) {
    case RequestHead::Body::kNone:
      limits.max_read = request.head_size;
      break;
    case RequestHead::Body::kLength:
      limits.max_read = request.head_size + head.content_length;
      break;
    case RequestHead::Body::kChunked:
      // Raw bytes, chunk framing included: an eighth and 4 KiB more than the decoded
      // limit, which the routes check again on the decoded body.
      limits.max_read =
          request.head_size + config_.max_body_bytes + config_.max_body_bytes / 8 + 4096;
      limits.over_is_error = true;
      break;
  }
  const auto now = Clock::now();
  limits.read_deadline = now + std::chrono::milliseconds(config_.request_timeout_ms);
  // The answer may still go out after a read deadline (a 408 to a client that stalled).
  limits.write_deadline =
      limits.read_deadline + std::chrono::milliseconds(config_.write_timeout_ms);
  limits.read_timeout = std::chrono::milliseconds(config_.read_timeout_ms);
  limits.write_timeout = std::chrono::milliseconds(config_.write_timeout_ms);
  try {
    DeadlineStream stream(request.fd, std::move(request.bytes), limits);
    t_stream = &stream;
    engine_.serve(stream);
  } catch (const std::exception& e) {
    spdlog::error("HTTP request failed: {}", e.what());
  }
  t_stream = nullptr;
  ::shutdown(request.fd, SHUT_WR);
  acceptor_.finish(request.fd);
}

}  // namespace gk

// libFuzzer target: the HTTP request path, in process. Each input is the raw bytes of one
// HTTP request, handed to the very httplib::Server the daemon runs (HttpServer with its
// health, readiness, metrics and error handlers, HttpApi's routes on top), through
// httplib's own request processing: request line, headers, body, routing, our handlers.
// Behind them runs the real StatusService against a private redis-server started here, so
// writes, histories and POST /events go all the way to Redis and the system-event outlets.
//
// Invariants beyond "no sanitizer finding": no answer is a 500 (a handler threw: bad input
// must get a 4xx), and every error answer with a body is JSON carrying "error".
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "common/config/config.h"
#include "common/redis/redis_connection.h"
#include "common/rules/channels.h"
#include "gatekeeper/admission/pipeline_stats.h"
#include "gatekeeper/api/http_api.h"
#include "gatekeeper/http/http_head.h"
#include "gatekeeper/http/http_server.h"
#include "gatekeeper/management/event_processor.h"
#include "gatekeeper/management/management_metrics.h"
#include "gatekeeper/management/status_service.h"
#include "gatekeeper/metrics.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// The request as a stream: reads come from the input, writes collect the response.
class InputStream : public httplib::Stream {
 public:
  InputStream(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, std::size_t size) override {
    const std::size_t n = std::min(size, size_ - pos_);
    if (n > 0) std::memcpy(ptr, data_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, std::size_t size) override {
    response_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8080;
  }
  socket_t socket() const override { return INVALID_SOCKET; }

  const std::string& response() const noexcept { return response_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::string response_;
};

// httplib keeps its per-connection entry point protected; naming it through a derived class
// gives a pointer to it that can be used on the daemon's own Server object.
struct ServerAccess : httplib::Server {
  using httplib::Server::process_request;
};

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// A private redis-server that dies with this process (PR_SET_PDEATHSIG), so a crash that
// ends the fuzzer leaves nothing behind. Without redis-server the store is unreachable and
// the handlers take their 503 paths.
void start_redis(int port) {
  const pid_t pid = ::fork();
  if (pid != 0) return;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (std::FILE* null = std::freopen("/dev/null", "w", stdout)) (void)null;
  const std::string port_arg = std::to_string(port);
  ::execlp("redis-server", "redis-server", "--port", port_arg.c_str(), "--bind", "127.0.0.1",
           "--save", "", "--appendonly", "no", "--maxmemory", "256mb", "--maxmemory-policy",
           "allkeys-random", static_cast<char*>(nullptr));
  ::_exit(127);
}

std::string config_text(int redis_port) {
  return R"(
[ingress]
messages = "inproc://fuzz-messages"
events = "inproc://fuzz-events-in"
[egress]
decisions = "inproc://fuzz-decisions"
events = "inproc://fuzz-events-out"
[channels.MAIL]
aliases = ["EMAIL"]
endpoint = "inproc://fuzz-mail"
[channels.SMS]
endpoint = "inproc://fuzz-sms"
[redis]
url = "redis://127.0.0.1:)" +
         std::to_string(redis_port) + R"(/0"
connect_timeout_ms = 200
command_timeout_ms = 1000
history_length = 5
[http]
listen = "127.0.0.1:0"
auth_tokens = ["fuzz-token"]
auth_tokens_env = ""
max_body_bytes = 4096
max_events_per_body = 50
metrics_require_token = true
)";
}

// Everything the HTTP side of the daemon is made of, built as Server::start() builds it.
struct Harness {
  explicit Harness(gk::Config c)
      : config(std::move(c)),
        channels(config.channels),
        context(1),
        metrics(stats, health, channels),
        management(metrics.registry()),
        status(config, context, management),
        processor(channels, status, management),
        http(config.http, health, metrics, stats.http_queue_overflows),
        api(config, channels, status, processor, management) {
    status.bind();
    // Ready in every part, so /readyz answers 200 like the other routes it is not a finding
    // for: its 503 body is a readiness report, not an error.
    health.sockets_bound = true;
    health.redis_up = true;
    health.addresses_synced = true;
    api.register_routes(http.server());
    // A handler that throws is answered 500 by HttpServer's exception handler; here it is
    // a finding, with the request that caused it saved by libFuzzer.
    http.server().set_exception_handler(
        [](const httplib::Request& req, httplib::Response&, std::exception_ptr ep) {
          std::string what = "unknown exception";
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          std::fprintf(stderr, "handler for %s %s threw: %s\n", req.method.c_str(),
                       req.path.c_str(), what.c_str());
          std::abort();
        });
  }

  gk::Config config;
  gk::ChannelRegistry channels;
  gk::PipelineStats stats;
  gk::Health health;
  zmq::context_t context;
  gk::Metrics metrics;
  gk::ManagementMetrics management;
  gk::StatusService status;
  gk::EventProcessor processor;
  gk::HttpServer http;
  gk::HttpApi api;
};

Harness* harness = nullptr;

int status_of(std::string_view response) {
  // "HTTP/1.1 200 OK\r\n..."
  if (response.size() < 12 || response.substr(0, 5) != "HTTP/") return -1;
  return std::atoi(std::string(response.substr(9, 3)).c_str());
}

void check_response(std::string_view response) {
  if (response.empty()) return;  // nothing was written: the request was cut short
  const int status = status_of(response);
  GK_FUZZ_CHECK(status >= 100 && status <= 599);
  GK_FUZZ_CHECK(status != 500);
  if (status < 400) return;
  const auto end = response.find("\r\n\r\n");
  GK_FUZZ_CHECK(end != std::string_view::npos);
  const std::string_view body = response.substr(end + 4);
  if (body.empty()) return;  // HEAD
  // httplib 0.11 applies a request's Range header to any answer, errors and POST included
  // (RFC 9110 says to ignore it there): a client that asks for bytes 0-1 gets `{"`. Only
  // such a client sees it, so it is left to the library and not checked here.
  if (response.substr(0, end).find("\r\nContent-Range: ") != std::string_view::npos) return;
  // The public /u/ link pages answer their errors as HTML pages for people (PROTOCOL.md 10);
  // everything else answers JSON.
  if (response.substr(0, end).find("\r\nContent-Type: text/html") != std::string_view::npos) {
    GK_FUZZ_CHECK(body.find("<!doctype html>") != std::string_view::npos);
    return;
  }
  const auto json = nlohmann::json::parse(body, nullptr, false);
  GK_FUZZ_CHECK(json.is_object() && json.contains("error"));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  const int port = free_port();
  start_redis(port);
  auto loaded = gk::parse_config(config_text(port), "fuzz_http.toml");
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    std::abort();
  }
  // Wait (bounded) for Redis; without it the fuzzer still runs, on the 503 paths.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool up = false;
  while (!up && std::chrono::steady_clock::now() < deadline) {
    up = gk::RedisConnection::connect(loaded.config->redis).ok();
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "fuzz_http: redis-server on port %d %s\n", port,
               up ? "is up" : "did not start: the store is unreachable");
  harness = new Harness(std::move(*loaded.config));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The acceptor's head parser sees every request first (framing checks).
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (const std::size_t end = gk::find_head_end(input); end != std::string_view::npos) {
    const auto parsed = gk::parse_request_head(input.substr(0, end));
    if (const auto* error = std::get_if<gk::HeadError>(&parsed)) {
      GK_FUZZ_CHECK((error->status == 400 || error->status == 501) && !error->message.empty());
    }
  }
  InputStream stream(data, size);
  bool connection_closed = false;
  httplib::Server& server = harness->http.server();
  (server.*(&ServerAccess::process_request))(stream, /*close_connection=*/true, connection_closed,
                                             nullptr);
  // GK_FUZZ_HTTP_PRINT=1 shows each answer, for reproducing a finding by hand.
  static const bool print = std::getenv("GK_FUZZ_HTTP_PRINT") != nullptr;
  if (print) std::fprintf(stderr, "--- answer:\n%s\n---\n", stream.response().c_str());
  check_response(stream.response());
  return 0;
}

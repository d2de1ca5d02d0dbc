// HTTP limits: idle connections cannot exhaust memory or wedge the listener for good.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include "tests/support/ports.h"
#include "tests/support/rig.h"

using namespace gk::test;
using namespace std::chrono_literals;

namespace {

// A client that connects and sends nothing, or only what it is told to.
class IdleConnection {
 public:
  explicit IdleConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~IdleConnection() { ::close(fd_); }
  bool connected() const { return connected_; }
  void send(const std::string& bytes) { ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }

 private:
  int fd_;
  bool connected_ = false;
};

}  // namespace

TEST_CASE("http limits: a flood of idle connections is bounded and then served", "[e2e][http]") {
  Rig rig;
  rig.opts.http_extra = "threads = 1\nmax_queued_connections = 1\nheader_timeout_ms = 300\n";
  rig.start();
  {
    std::vector<std::unique_ptr<IdleConnection>> idle;
    for (int i = 0; i < 6; ++i) {
      idle.push_back(std::make_unique<IdleConnection>(rig.opts.http_port));
      REQUIRE(idle.back()->connected());
    }
    // Idle connections wait in the acceptor, not in a worker: probes are served meanwhile.
    CHECK(http_get(rig.opts.http_port, "/healthz").status == 200);
  }
  CHECK(http_get(rig.opts.http_port, "/healthz").status == 200);
  CHECK(rig.gk->process().running());
}

TEST_CASE("http limits: requests beyond the workers and their queue wait, counted", "[e2e][http]") {
  Rig rig;
  rig.opts.http_extra = "threads = 1\nmax_queued_connections = 1\nrequest_timeout_ms = 1000\n";
  rig.start();
  const std::string stalled_put =
      "PUT /users/u1/optout-status HTTP/1.1\r\nX-XNG-AuthToken: " + rig.opts.auth_token +
      "\r\nContent-Length: 20\r\n\r\n";
  {
    // Complete heads whose bodies never come: the first holds the worker, the second
    // fills the queue, the rest wait in the acceptor.
    std::vector<std::unique_ptr<IdleConnection>> stalled;
    for (int i = 0; i < 4; ++i) {
      stalled.push_back(std::make_unique<IdleConnection>(rig.opts.http_port));
      REQUIRE(stalled.back()->connected());
      stalled.back()->send(stalled_put);
    }
    CHECK(eventually([&] { return rig.metric("gk_http_queue_overflows_total") >= 1; }, 10s));
    // Health and readiness have a worker of their own.
    CHECK(http_get(rig.opts.http_port, "/healthz").status == 200);
  }
  CHECK(http_put(rig.opts.http_port, "/users/u1/optout-status", R"({"optOut": true})",
                 rig.opts.auth_token)
            .status == 200);
  CHECK(rig.gk->process().running());
}

TEST_CASE("http limits: an oversized header or body is refused with a 4xx", "[e2e][http]") {
  Rig rig;
  rig.opts.http_extra = "max_body_bytes = 2048\n";
  rig.start();
  httplib::Client c("127.0.0.1", rig.opts.http_port);
  const httplib::Headers auth = {{"X-XNG-AuthToken", rig.opts.auth_token}};
  auto big_body =
      c.Put("/users/u1/optout-status", auth,
            "{\"optOut\": true, \"pad\": \"" + std::string(4096, 'x') + "\"}", "application/json");
  REQUIRE(big_body);
  CHECK(big_body->status == 413);
  CHECK(big_body->body.find("\"error\"") != std::string::npos);
  httplib::Headers huge = auth;
  huge.emplace("X-Padding", std::string(20000, 'p'));
  auto big_header = c.Get("/users/u1/optout-status", huge);
  // The library drops a header line over 8 KiB: either a 4xx or a closed connection.
  CHECK((!big_header || (big_header->status >= 400 && big_header->status < 500)));
  CHECK(http_get(rig.opts.http_port, "/healthz").status == 200);
}

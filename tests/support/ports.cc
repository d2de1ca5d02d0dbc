#include "tests/support/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>

namespace gk::test {

bool can_bind(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

int free_port() {
  // Below the kernel's ephemeral range (32768 and up by default): a port the kernel hands
  // out is taken again by the next outgoing connection of any process, often before the
  // test's server binds it. Each process walks its own random stretch of this range, so
  // parallel test processes rarely meet.
  constexpr int kLow = 20000;
  constexpr int kHigh = 32000;
  static std::atomic<int> next{kLow + static_cast<int>((::getpid() * 7919L) % (kHigh - kLow))};
  for (int tries = 0; tries < kHigh - kLow; ++tries) {
    int port = next.fetch_add(1);
    port = kLow + (port - kLow) % (kHigh - kLow);
    if (can_bind(port)) return port;
  }
  throw std::runtime_error("cannot find a free port");
}

std::string tcp_endpoint(int port) {
  return "tcp://127.0.0.1:" + std::to_string(port);
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

}  // namespace gk::test

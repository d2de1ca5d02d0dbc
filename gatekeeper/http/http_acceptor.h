#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/util/counters.h"
#include "gatekeeper/http/http_head.h"
#include "gatekeeper/ops/log_limiter.h"

namespace gk {

// A connection whose request head arrived complete and well framed.
struct PendingRequest {
  int fd = -1;
  std::string bytes;          // the head and whatever followed it in the same reads
  std::size_t head_size = 0;  // bytes of `bytes` that are the head
  RequestHead head;
};

// The HTTP listener's front: one thread that accepts connections and reads each request
// head without blocking (epoll), so a client that sends slowly costs a buffer here instead
// of a worker thread. Heads that are too large, too slow or badly framed are answered (or
// dropped) here; complete ones are offered to `dispatch` on this thread, which hands them
// to a worker or returns false, and then the connection waits ("parked") until a worker
// finishes. When a worker is done it gives the socket back through finish(); the acceptor
// then closes it gracefully (lingering close: the client reads the answer before the
// reset that unread request bytes would cause).
class HttpAcceptor {
 public:
  using Clock = std::chrono::steady_clock;
  struct Settings {
    std::string host;
    int port = 0;
    std::size_t max_connections = 256;
    std::size_t max_header_bytes = 16384;
    std::uint64_t max_body_bytes = 1 << 20;
    std::chrono::milliseconds header_timeout{5000};
    // How long a parked connection may wait for a worker before a 503.
    std::chrono::milliseconds park_timeout{5000};
    // How long a closing connection's unread bytes are discarded before the socket closes.
    std::chrono::milliseconds linger{1000};
  };
  // False when no worker can take the request now; the request is then left untouched.
  using Dispatch = std::function<bool(PendingRequest&)>;

  // `parked` counts requests that had to wait because no worker was free.
  HttpAcceptor(Settings settings, Dispatch dispatch, LocalCounter& parked);
  ~HttpAcceptor();
  HttpAcceptor(const HttpAcceptor&) = delete;
  HttpAcceptor& operator=(const HttpAcceptor&) = delete;

  // Listens on host:port; throws std::runtime_error naming the address when it cannot.
  // Returns the bound port.
  int bind();
  void start();
  // Stops accepting and closes every connection the acceptor holds; workers' sockets are
  // closed when they finish().
  void stop();
  // A worker is done with `fd` (its answer written, the write side shut down).
  void finish(int fd);

  // Writes a complete error answer (`{"error": message}`, Connection: close).
  static std::string error_answer(int status, const std::string& message);

 private:
  enum class State { kHead, kParked, kLinger };
  struct Connection {
    State state = State::kHead;
    Clock::time_point accepted;
    Clock::time_point deadline;
    std::string buffer;
    bool counted_parked = false;
    PendingRequest request;
  };

  void run();
  void accept_all();
  void read_head(int fd, Connection& c);
  void discard(int fd);
  // Answers without a worker and starts the lingering close.
  void answer(int fd, Connection& c, int status, const std::string& message);
  void start_linger(int fd, Connection& c);
  void close_connection(int fd);
  bool evict_one();
  void expire(Clock::time_point now);
  void dispatch_parked();
  void take_finished();
  int next_timeout_ms(Clock::time_point now) const;
  void watch(int fd);
  void unwatch(int fd);

  Settings settings_;
  Dispatch dispatch_;
  LocalCounter& parked_count_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;

  // Acceptor thread only.
  std::unordered_map<int, Connection> connections_;
  std::deque<int> parked_;
  std::size_t in_workers_ = 0;
  LogLimiter log_limiter_;

  std::mutex mutex_;  // guards the two below (workers and stop())
  std::vector<int> finished_;
  bool stopped_ = false;
};

}  // namespace gk

#include "gatekeeper/http/http_acceptor.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/protocol/system_event.h"

namespace gk {

namespace {

constexpr std::size_t kReadChunk = 4096;

// The statuses the acceptor answers itself.
const char* reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace

std::string HttpAcceptor::error_answer(int status, const std::string& message) {
  const std::string body = safe_dump(nlohmann::json{{"error", message}});
  return "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

HttpAcceptor::HttpAcceptor(Settings settings, Dispatch dispatch, LocalCounter& parked)
    : settings_(std::move(settings)), dispatch_(std::move(dispatch)), parked_count_(parked) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    throw std::runtime_error(std::string("HTTP acceptor: ") + std::strerror(errno));
  }
  watch(wake_fd_);
}

HttpAcceptor::~HttpAcceptor() {
  stop();
  for (int fd : finished_) ::close(fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

int HttpAcceptor::bind() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string where = settings_.host + ":" + std::to_string(settings_.port);
  if (::getaddrinfo(settings_.host.c_str(), std::to_string(settings_.port).c_str(), &hints,
                    &found) != 0) {
    throw std::runtime_error("cannot resolve HTTP listen address " + where);
  }
  std::string problem = "no address";
  for (addrinfo* a = found; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    const int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      listen_fd_ = fd;
    } else {
      problem = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) throw std::runtime_error("cannot listen on " + where + ": " + problem);
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = addr.ss_family == AF_INET6
                       ? ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port)
                       : ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
  watch(listen_fd_);
  return port;
}

void HttpAcceptor::start() {
  thread_ = std::thread([this] { run(); });
}

void HttpAcceptor::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
}

void HttpAcceptor::finish(int fd) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) {
      ::close(fd);
      return;
    }
    finished_.push_back(fd);
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof(one));
}

void HttpAcceptor::watch(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
}

void HttpAcceptor::unwatch(int fd) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void HttpAcceptor::run() {
  std::array<epoll_event, 64> events{};
  while (true) {
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                               next_timeout_ms(Clock::now()));
    if (n < 0 && errno != EINTR) {
      spdlog::error("HTTP acceptor: epoll_wait failed: {}", std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[static_cast<std::size_t>(i)].data.fd;
      if (fd == listen_fd_) {
        accept_all();
      } else if (fd == wake_fd_) {
        std::uint64_t value = 0;
        [[maybe_unused]] const auto r = ::read(wake_fd_, &value, sizeof(value));
      } else if (const auto it = connections_.find(fd); it != connections_.end()) {
        if (it->second.state == State::kHead) {
          read_head(fd, it->second);
        } else if (it->second.state == State::kLinger) {
          discard(fd);
        }
      }
    }
    {
      std::lock_guard lock(mutex_);
      if (stopped_) break;
    }
    take_finished();
    expire(Clock::now());
    dispatch_parked();
  }
  for (auto& [fd, c] : connections_) ::close(fd);
  connections_.clear();
  parked_.clear();
}

int HttpAcceptor::next_timeout_ms(Clock::time_point now) const {
  auto next = now + std::chrono::seconds(1);
  for (const auto& [fd, c] : connections_) next = std::min(next, c.deadline);
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
  return static_cast<int>(std::max<std::int64_t>(0, ms));
}

void HttpAcceptor::accept_all() {
  while (true) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // Out of descriptors: a slow head gives its one up, or the pending connection would
      // keep the listener readable and this loop spinning.
      if ((errno == EMFILE || errno == ENFILE) && evict_one()) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        std::uint64_t suppressed = 0;
        if (log_limiter_.allow(suppressed)) {
          spdlog::warn("HTTP accept failed: {} ({} more not logged)", std::strerror(errno),
                       suppressed);
        }
      }
      return;
    }
    // Full: the oldest connection still sending its head goes, so that a flood of slow
    // clients cannot keep a health check out.
    if (connections_.size() + in_workers_ >= settings_.max_connections && !evict_one()) {
      ::close(fd);
      continue;
    }
    const int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    Connection& c = connections_[fd];
    c.accepted = Clock::now();
    c.deadline = c.accepted + settings_.header_timeout;
    watch(fd);
  }
}

bool HttpAcceptor::evict_one() {
  int victim = -1;
  Clock::time_point oldest = Clock::time_point::max();
  for (const State wanted : {State::kLinger, State::kHead}) {
    for (const auto& [fd, c] : connections_) {
      if (c.state == wanted && c.accepted < oldest) {
        oldest = c.accepted;
        victim = fd;
      }
    }
    if (victim >= 0) break;
  }
  if (victim < 0) return false;
  spdlog::debug("HTTP connection limit reached: closing the oldest unfinished connection");
  close_connection(victim);
  return true;
}

void HttpAcceptor::read_head(int fd, Connection& c) {
  std::array<char, kReadChunk> chunk{};
  while (true) {
    const ssize_t n = ::recv(fd, chunk.data(), chunk.size(), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      close_connection(fd);  // the client went away before its head was complete
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // wait for more
    }
    const std::size_t searched_from = c.buffer.size() < 3 ? 0 : c.buffer.size() - 3;
    c.buffer.append(chunk.data(), static_cast<std::size_t>(n));
    const std::size_t end = find_head_end(std::string_view(c.buffer).substr(searched_from));
    if (end == std::string_view::npos) {
      if (c.buffer.size() > settings_.max_header_bytes) {
        return answer(fd, c, 431,
                      "request head larger than http.max_header_bytes (" +
                          std::to_string(settings_.max_header_bytes) + " bytes)");
      }
      continue;
    }
    const std::size_t head_size = searched_from + end;
    if (head_size > settings_.max_header_bytes) {
      return answer(fd, c, 431,
                    "request head larger than http.max_header_bytes (" +
                        std::to_string(settings_.max_header_bytes) + " bytes)");
    }
    auto parsed = parse_request_head(std::string_view(c.buffer).substr(0, head_size));
    if (const auto* error = std::get_if<HeadError>(&parsed)) {
      return answer(fd, c, error->status, error->message);
    }
    RequestHead& head = std::get<RequestHead>(parsed);
    if (head.body == RequestHead::Body::kLength && head.content_length > settings_.max_body_bytes) {
      // Refused before a body byte is read; the lingering close discards what follows.
      return answer(fd, c, 413,
                    "request body too large: " + std::to_string(head.content_length) +
                        " bytes, over http.max_body_bytes (" +
                        std::to_string(settings_.max_body_bytes) + ")");
    }
    unwatch(fd);
    c.state = State::kParked;
    c.deadline = Clock::now() + settings_.park_timeout;
    c.request.fd = fd;
    c.request.head_size = head_size;
    c.request.head = std::move(head);
    c.request.bytes = std::move(c.buffer);
    parked_.push_back(fd);
    return;
  }
}

void HttpAcceptor::discard(int fd) {
  // A bounded amount per wake-up: a client sending at full speed must not hold this thread.
  std::array<char, 16384> sink{};
  for (int reads = 0; reads < 16; ++reads) {
    const ssize_t n = ::recv(fd, sink.data(), sink.size(), 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    close_connection(fd);  // the client closed too (or reset): done
    return;
  }
}

void HttpAcceptor::answer(int fd, Connection& c, int status, const std::string& message) {
  // A fresh connection's send buffer holds a short answer; if not, the client was not
  // reading, and losing the answer is its own doing.
  const std::string text = error_answer(status, message);
  [[maybe_unused]] const auto n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
  start_linger(fd, c);
}

void HttpAcceptor::start_linger(int fd, Connection& c) {
  ::shutdown(fd, SHUT_WR);
  c.state = State::kLinger;
  c.buffer = std::string();
  c.deadline = Clock::now() + settings_.linger;
}

void HttpAcceptor::close_connection(int fd) {
  unwatch(fd);
  ::close(fd);
  connections_.erase(fd);
}

void HttpAcceptor::take_finished() {
  std::vector<int> done;
  {
    std::lock_guard lock(mutex_);
    done.swap(finished_);
  }
  for (int fd : done) {
    --in_workers_;
    Connection& c = connections_[fd];
    c.accepted = Clock::now();
    start_linger(fd, c);
    watch(fd);
  }
}

void HttpAcceptor::expire(Clock::time_point now) {
  std::vector<int> due;
  for (const auto& [fd, c] : connections_) {
    if (c.deadline <= now) due.push_back(fd);
  }
  for (int fd : due) {
    Connection& c = connections_[fd];
    if (c.state == State::kParked) {
      parked_.erase(std::find(parked_.begin(), parked_.end(), fd));
      watch(fd);
      answer(fd, c, 503, "no HTTP worker became free in time; retry later");
    } else {
      // A head not complete within http.header_timeout_ms, or a finished lingering close.
      close_connection(fd);
    }
  }
}

void HttpAcceptor::dispatch_parked() {
  for (auto it = parked_.begin(); it != parked_.end();) {
    Connection& c = connections_[*it];
    if (dispatch_(c.request)) {
      ++in_workers_;
      connections_.erase(*it);
      it = parked_.erase(it);
    } else {
      if (!c.counted_parked) parked_count_.add();
      c.counted_parked = true;
      ++it;
    }
  }
}

}  // namespace gk

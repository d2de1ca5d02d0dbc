#include "gatekeeper/http/deadline_stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace gk {

namespace {

constexpr std::uint64_t kRefill = 4096;

void address_of(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
    ::inet_ntop(AF_INET, &a.sin_addr, text, sizeof(text));
    port = ntohs(a.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
    ::inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof(text));
    port = ntohs(a.sin6_port);
  }
  ip = text;
}

}  // namespace

DeadlineStream::DeadlineStream(int fd, std::string buffered, const Limits& limits)
    : fd_(fd),
      buffered_(std::move(buffered)),
      limits_(limits),
      over_is_error_(limits.over_is_error) {}

bool DeadlineStream::wait(short events, std::chrono::milliseconds timeout,
                          Clock::time_point deadline) const {
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    const auto ms = std::min(timeout, left);
    if (ms.count() <= 0) return false;
    pollfd p{fd_, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(ms.count()));
    if (n < 0 && errno == EINTR) continue;
    // A hang-up or error still lets the following read/write report it.
    return n > 0;
  }
}

bool DeadlineStream::is_readable() const {
  return buffered_pos_ < buffered_.size() ||
         wait(POLLIN, limits_.read_timeout, limits_.read_deadline);
}

bool DeadlineStream::is_writable() const {
  return wait(POLLOUT, limits_.write_timeout, limits_.write_deadline);
}

ssize_t DeadlineStream::read(char* ptr, size_t size) {
  if (read_ >= limits_.max_read) {
    if (!over_is_error_) return 0;  // the framed body ended: an end of stream for httplib
    body_too_large_ = true;
    return -1;
  }
  if (buffered_pos_ == buffered_.size()) {
    // httplib reads lines a byte at a time: fill a buffer rather than a syscall per byte,
    // never past the framed end.
    buffered_.resize(
        static_cast<std::size_t>(std::min<std::uint64_t>(kRefill, limits_.max_read - read_)));
    buffered_pos_ = 0;
    while (true) {
      if (!wait(POLLIN, limits_.read_timeout, limits_.read_deadline)) {
        buffered_.clear();
        timed_out_ = true;
        return -1;
      }
      const ssize_t n = ::recv(fd_, buffered_.data(), buffered_.size(), 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      buffered_.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
      if (n <= 0) return n;
      break;
    }
  }
  const std::size_t n = static_cast<std::size_t>(
      std::min<std::uint64_t>({size, buffered_.size() - buffered_pos_, limits_.max_read - read_}));
  std::memcpy(ptr, buffered_.data() + buffered_pos_, n);
  buffered_pos_ += n;
  read_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t DeadlineStream::write(const char* ptr, size_t size) {
  while (true) {
    if (!wait(POLLOUT, limits_.write_timeout, limits_.write_deadline)) return -1;
    const ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    return n;
  }
}

void DeadlineStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    address_of(addr, ip, port);
  }
}

void DeadlineStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    address_of(addr, ip, port);
  }
}

}  // namespace gk

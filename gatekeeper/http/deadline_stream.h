#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace gk {

// One request's connection as httplib reads and writes it: first the bytes the acceptor
// already buffered (the head, maybe the start of the body), then the socket. Reads stop at
// the end of the framed body (so httplib never waits for bytes past it), at a cap on body
// bytes, and at a deadline for the whole request; each read or write also waits no longer
// than its own timeout. The socket stays open: its owner closes it.
class DeadlineStream : public httplib::Stream {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    std::uint64_t max_read = 0;  // bytes httplib may read in all, buffered ones included
    bool over_is_error = false;  // reading past max_read is a too-large body, not an end
    Clock::time_point read_deadline;
    Clock::time_point write_deadline;
    std::chrono::milliseconds read_timeout{0};   // per read
    std::chrono::milliseconds write_timeout{0};  // per write
  };

  DeadlineStream(int fd, std::string buffered, const Limits& limits);

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

  // Why reading stopped early, for the error the request gets.
  bool body_too_large() const noexcept { return body_too_large_; }
  bool timed_out() const noexcept { return timed_out_; }

 private:
  // Waits for `events` up to min(per-call timeout, deadline); false on timeout or error.
  bool wait(short events, std::chrono::milliseconds timeout, Clock::time_point deadline) const;

  int fd_;
  std::string buffered_;
  std::size_t buffered_pos_ = 0;
  Limits limits_;
  bool over_is_error_;
  std::uint64_t read_ = 0;  // bytes handed to httplib
  bool body_too_large_ = false;
  bool timed_out_ = false;
};

}  // namespace gk

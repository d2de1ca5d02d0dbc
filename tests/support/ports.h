#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace gk::test {

// A loopback TCP port that was free a moment ago (the kernel picked it).
int free_port();
// Whether a TCP listener could bind 127.0.0.1:port right now.
bool can_bind(int port);
std::string tcp_endpoint(int port);

// Polls `condition` until it holds or `timeout` passes; returns whether it held. The
// harness's only way to wait: no fixed sleeps as synchronisation.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000),
                std::chrono::milliseconds step = std::chrono::milliseconds(5));

}  // namespace gk::test

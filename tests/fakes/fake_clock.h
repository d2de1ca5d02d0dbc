#pragma once

#include <chrono>

namespace gk::test {

// A LoopClock (gatekeeper/admission/status_source.h) that stands still until the test
// advances it, so deadlines are crossed exactly when the test says.
class FakeClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  TimePoint now() const noexcept { return now_; }
  void advance(std::chrono::milliseconds d) noexcept { now_ += d; }

 private:
  // Away from zero, so "now - max_wait" stays a valid time point.
  TimePoint now_ = TimePoint{} + std::chrono::hours(1);
};

}  // namespace gk::test

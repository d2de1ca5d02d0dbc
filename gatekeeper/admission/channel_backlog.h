#pragma once

#include <cstddef>
#include <deque>
#include <vector>

#include "gatekeeper/admission/pending_message.h"

namespace gk {

// Permitted messages waiting for a full or absent adapter, one FIFO per routable channel, and
// the intake pause: once one channel holds `limit` messages the loop stops reading the
// ingress (the senders feel it instead), and it reads again once none is full. The other
// channels keep flowing meanwhile.
class ChannelBacklog {
 public:
  ChannelBacklog(std::size_t channels, std::size_t limit) : waiting_(channels), limit_(limit) {}
  // A limit below 1 would pause on an empty backlog.
  void set_limit(std::size_t limit) noexcept { limit_ = limit < 1 ? 1 : limit; }

  // Queues `p` behind what already waits for `channel`, to keep the order the adapter
  // receives in. True when this pauses the intake.
  bool push(std::size_t channel, PendingMessage&& p);
  PendingMessage& front(std::size_t channel) { return waiting_[channel].front(); }
  void pop_front(std::size_t channel) { waiting_[channel].pop_front(); }
  // Resumes the intake if it is paused and no channel is full any more; true when it did.
  bool resume_if_room() noexcept;

  bool empty(std::size_t channel) const noexcept { return waiting_[channel].empty(); }
  std::size_t waiting(std::size_t channel) const noexcept { return waiting_[channel].size(); }
  std::size_t channels() const noexcept { return waiting_.size(); }
  std::size_t total() const noexcept;
  bool intake_paused() const noexcept { return intake_paused_; }
  // Whether the next `pushes` pushes, to any channels, cannot pause the intake: every channel
  // holds at most limit - pushes - 1.
  bool pushes_cannot_pause(std::size_t pushes) const noexcept;

 private:
  std::vector<std::deque<PendingMessage>> waiting_;
  std::size_t limit_;
  bool intake_paused_ = false;
};

}  // namespace gk

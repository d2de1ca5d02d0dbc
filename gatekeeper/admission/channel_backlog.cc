#include "gatekeeper/admission/channel_backlog.h"

#include <utility>

namespace gk {

bool ChannelBacklog::push(std::size_t channel, PendingMessage&& p) {
  auto& waiting = waiting_[channel];
  waiting.push_back(std::move(p));
  if (waiting.size() >= limit_ && !intake_paused_) {
    intake_paused_ = true;
    return true;
  }
  return false;
}

bool ChannelBacklog::resume_if_room() noexcept {
  if (!intake_paused_) return false;
  for (const auto& w : waiting_) {
    if (w.size() >= limit_) return false;
  }
  intake_paused_ = false;
  return true;
}

bool ChannelBacklog::pushes_cannot_pause(std::size_t pushes) const noexcept {
  for (const auto& w : waiting_) {
    if (w.size() + pushes + 1 > limit_) return false;
  }
  return true;
}

std::size_t ChannelBacklog::total() const noexcept {
  std::size_t n = 0;
  for (const auto& w : waiting_) n += w.size();
  return n;
}

}  // namespace gk

#include "gatekeeper/admission/held_queue.h"

#include <utility>

namespace gk {

bool HeldQueue::push_back(PendingMessage&& p) {
  if (messages_.size() >= max_messages_) return false;
  messages_.push_back(std::move(p));
  return true;
}

void HeldQueue::push_front(PendingMessage&& p) {
  messages_.push_front(std::move(p));
}

PendingMessage HeldQueue::pop_front() {
  PendingMessage p = std::move(messages_.front());
  messages_.pop_front();
  return p;
}

bool HeldQueue::front_expired(std::chrono::steady_clock::time_point now,
                              std::chrono::milliseconds max_wait) const noexcept {
  return !messages_.empty() && now - messages_.front().received >= max_wait;
}

}  // namespace gk

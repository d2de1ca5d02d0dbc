#pragma once

#include <chrono>
#include <cstddef>
#include <deque>

#include "gatekeeper/admission/pending_message.h"

namespace gk {

// Messages waiting for the status store, oldest first, bounded. New arrivals join at the back
// and are refused when it is full; a message taken out for a retry that failed again goes
// back to the front, so the retry order stays the arrival order, and is never refused (it
// already had its place).
class HeldQueue {
 public:
  explicit HeldQueue(std::size_t max_messages) : max_messages_(max_messages) {}
  void set_max_messages(std::size_t n) noexcept { max_messages_ = n; }

  // False (and `p` left as it was) when the queue is full.
  bool push_back(PendingMessage&& p);
  void push_front(PendingMessage&& p);
  PendingMessage pop_front();

  // Whether the oldest message has waited `max_wait` or longer at `now`.
  bool front_expired(std::chrono::steady_clock::time_point now,
                     std::chrono::milliseconds max_wait) const noexcept;

  std::size_t size() const noexcept { return messages_.size(); }
  bool empty() const noexcept { return messages_.empty(); }

 private:
  std::deque<PendingMessage> messages_;
  std::size_t max_messages_;
};

}  // namespace gk

#include "gatekeeper/ops/bounded_task_queue.h"

namespace gk {

BoundedTaskQueue::BoundedTaskQueue(std::size_t threads, std::size_t max_queued,
                                   LocalCounter& overflows)
    : max_queued_(max_queued), overflows_(overflows) {
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

BoundedTaskQueue::~BoundedTaskQueue() {
  shutdown();
}

void BoundedTaskQueue::enqueue(std::function<void()> fn) {
  {
    std::unique_lock lock(mutex_);
    if (jobs_.size() < max_queued_) {
      jobs_.push_back(std::move(fn));
      lock.unlock();
      ready_.notify_one();
      return;
    }
  }
  // Caller runs: the connection is still served (its socket must be closed by it), and
  // accepting pauses meanwhile.
  overflows_.add();
  fn();
}

void BoundedTaskQueue::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (shutdown_) return;
    shutdown_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void BoundedTaskQueue::work() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return shutdown_ || !jobs_.empty(); });
      // Queued connections are still served on shutdown: each owns a socket to close.
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace gk

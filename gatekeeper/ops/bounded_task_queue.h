#pragma once

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/util/counters.h"

namespace gk {

// The HTTP listener's workers: a fixed number of threads and a bounded queue of accepted
// connections. When the queue is full the accepting thread serves the connection itself,
// so it stops accepting until there is room: a flood of connections then waits in the
// kernel's listen backlog instead of growing memory without bound.
class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(std::size_t threads, std::size_t max_queued, LocalCounter& overflows);
  ~BoundedTaskQueue() override;

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  void work();

  const std::size_t max_queued_;
  LocalCounter& overflows_;  // written by the accepting thread only
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace gk

#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/util/counters.h"

namespace gk {

// The HTTP listener's workers: a fixed number of threads and a bounded queue of requests
// whose head is complete. A full queue refuses the job (try_enqueue returns false) and the
// acceptor keeps the connection parked until a worker frees up: a flood waits as a few
// bytes per connection in the acceptor, bounded by http.max_connections, instead of
// growing the queue or blocking the accepting thread.
class BoundedTaskQueue {
 public:
  BoundedTaskQueue(std::size_t threads, std::size_t max_queued);
  ~BoundedTaskQueue();
  BoundedTaskQueue(const BoundedTaskQueue&) = delete;
  BoundedTaskQueue& operator=(const BoundedTaskQueue&) = delete;

  // False when the queue is full or shut down; the job is then untouched.
  bool try_enqueue(std::function<void()>& job);
  // Runs the jobs already queued, then joins the threads.
  void shutdown();

 private:
  void work();

  const std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace gk

#pragma once

#include <poll.h>

#include <vector>

#include "common/store/status_reader.h"
#include "common/util/result.h"
#include "tests/support/ports.h"

namespace gk::test {

// Applies the invalidations that have arrived on any of the reader's links, as the message
// loop does when its poll reports them; waits at most `timeout_ms` for the first. False when
// a link that polled readable turned out broken.
inline bool drain_ready(StatusReader& reader, int timeout_ms = 10) {
  std::vector<pollfd> items;
  for (int fd : reader.invalidation_fds()) items.push_back({fd, POLLIN, 0});
  if (::poll(items.data(), items.size(), timeout_ms) <= 0) return true;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if ((items[i].revents & (POLLIN | POLLHUP | POLLERR)) && !reader.drain_invalidations(i)) {
      return false;
    }
  }
  return true;
}

// Waits until an invalidation has taken `person` out of the reader's cache (false after
// the deadline, or when a link broke).
inline bool evicted(StatusReader& reader, const PersonRef& person) {
  OptOutRecord cached;
  return eventually([&] { return drain_ready(reader) && !reader.resolve(person, cached); });
}

// Resolves like the message loop does: cache first, then one pipelined fetch. An error when
// the fetch failed.
inline Result<OptOutRecord> lookup(StatusReader& reader, const PersonRef& person) {
  OptOutRecord r;
  if (reader.resolve(person, r)) return r;
  reader.want(person);
  if (auto fetched = reader.fetch(); !fetched) return fail(fetched.error());
  const bool resolved = reader.resolve(person, r);
  reader.end_batch();
  if (!resolved) return fail("not resolved after a fetch");
  return r;
}

}  // namespace gk::test

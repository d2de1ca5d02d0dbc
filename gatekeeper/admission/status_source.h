#pragma once

#include <chrono>
#include <concepts>
#include <string>

#include "common/rules/optout_record.h"
#include "common/store/status_reader.h"
#include "common/util/result.h"

namespace gk {

// What the admission of messages needs from the status store: a local lookup, a note of what
// to fetch, one batched fetch, and whether the store can be asked at all. The loop passes a
// StatusReader behind StoreStatusSource (store_link.h); unit tests pass
// tests/fakes/FakeStatusSource. A concept, not a base class: the lookup runs once per
// message, and a template costs no virtual call there.
template <class S>
concept StatusSource = requires(S& s, const PersonRef& person, OptOutRecord& out) {
  { s.connected() } -> std::convertible_to<bool>;
  // The merged status of everything `person` names, if it is known without a round trip.
  { s.resolve(person, out) } -> std::convertible_to<bool>;
  // A hint that resolve(person) follows soon: start loading what it will read.
  s.prefetch(person);
  // An earlier hint, a step before prefetch(person): start loading what that will read.
  s.prefetch_probe(person);
  // Notes what `person` needs for the next fetch().
  s.want(person);
  // Fetches everything wanted; an error on a store failure, after which connected() is false.
  { s.fetch() } -> std::same_as<Status>;
  // The batch is decided: what was fetched for it alone may be forgotten.
  s.end_batch();
};

// The time the loop decides by: steady_clock in the daemon, a clock the test advances in
// unit tests. Same time_point type either way, so the parts store plain time points.
template <class C>
concept LoopClock = requires(const C& c) {
  { c.now() } -> std::same_as<std::chrono::steady_clock::time_point>;
};

struct SteadyClock {
  std::chrono::steady_clock::time_point now() const noexcept {
    return std::chrono::steady_clock::now();
  }
};

}  // namespace gk

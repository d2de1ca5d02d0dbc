// When the message loop probes the status store: after the interval, at a turn that has
// caught up with the ingress, and never later than a second interval.
#include <catch2/catch.hpp>

#include <chrono>

#include "gatekeeper/pipeline/store_link.h"

using gk::probe_due;
using std::chrono::milliseconds;

TEST_CASE("store probe: not before the interval", "[pipeline][store]") {
  CHECK_FALSE(probe_due(milliseconds(0), milliseconds(500), true));
  CHECK_FALSE(probe_due(milliseconds(500), milliseconds(500), true));
  CHECK(probe_due(milliseconds(501), milliseconds(500), true));
}

TEST_CASE("store probe: waits for a caught-up turn while messages keep coming",
          "[pipeline][store]") {
  CHECK_FALSE(probe_due(milliseconds(501), milliseconds(500), false));
  CHECK_FALSE(probe_due(milliseconds(1000), milliseconds(500), false));
  // A loop that never catches up still probes, a second interval late at most.
  CHECK(probe_due(milliseconds(1001), milliseconds(500), false));
  CHECK(probe_due(milliseconds(5000), milliseconds(500), false));
}

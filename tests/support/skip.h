#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace gk::test {

// Printed by a test that could not run; CTest's SKIP_REGULAR_EXPRESSION (tests/CMakeLists.txt)
// turns a test whose output holds it into "Skipped", so a missing tool is never a pass.
inline constexpr const char* kSkipMarker = "GK_TEST_SKIPPED";

// Whether a test may go on without something it needs: false (after printing the skip
// marker and `why`) when `present` is false. In CI (CI=true), where scripts/setup installs
// every tool, a missing one fails the test instead: CI must not skip.
inline bool prerequisite(bool present, const std::string& why) {
  if (present) return true;
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string(ci) == "true") FAIL("missing in CI: " << why);
  WARN(kSkipMarker << ": " << why);
  return false;
}

}  // namespace gk::test

#pragma once

#include <cstdio>
#include <cstdlib>

// An invariant of the code under fuzzing. A broken one aborts, which libFuzzer reports as a
// crash and saves the input, like a sanitizer finding.
#define GK_FUZZ_CHECK(cond)                                                             \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

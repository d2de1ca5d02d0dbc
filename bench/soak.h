#pragma once

namespace gk::bench {

// Steady load for `minutes` with the Redis server killed and restarted every
// `restart_every_s` seconds; reports RSS at start and end, messages in and out, and wrong
// sends (a forward to an opted-out or blacklisted person), which must be 0. Exit code 0
// only when nothing was wrong and nothing was lost.
int run_soak(double minutes, unsigned rate, unsigned restart_every_s);

}  // namespace gk::bench

#pragma once

namespace gk::bench {

// The message loop's per-message work that needs no socket and no Redis, timed alone in this
// process: screening a realistic header (decode, checks, channel, e-mail normalisation) over
// a pool of distinct headers. A steadier figure than the end-to-end runs for changes to that
// code; `quick`: a tenth of the rounds.
int run_screen_bench(bool quick, bool as_json);

}  // namespace gk::bench

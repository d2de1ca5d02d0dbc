#pragma once

namespace gk::bench {

// How many messages a SIGKILL of the gatekeeper loses: streams messages, kills the process
// mid-stream, starts a new one on the same endpoints (senders and adapters reconnect by
// themselves) and counts what never arrived, for a small and a large high-water mark.
int run_sigkill_measurement();

}  // namespace gk::bench

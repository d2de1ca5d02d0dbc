#pragma once

namespace gk::bench {

// One-click unsubscribe links issued per second: POST /unsubscribe-links with 1000 items a
// call from two client threads against a running gatekeeper, and the token sealing alone in
// this process for comparison. `quick`: a tenth of the calls.
int run_links_bench(bool quick, bool as_json);

}  // namespace gk::bench

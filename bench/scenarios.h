#pragma once

#include <string>

namespace gk::bench {

// The main benchmark (issue 16): every gatekeeper scenario against a bare forwarding loop,
// interleaved in the same run, medians of `runs` runs. See docs/PERFORMANCE.md, "Method".
struct ScenarioOptions {
  bool quick = false;  // a tenth of the messages (populations stay as they are)
  bool json = false;
  std::string scenarios = "warm,warm-id,cold,cold-leads,paced,warm-1m";
  int runs = 3;
};

int run_scenarios(const ScenarioOptions& options);

}  // namespace gk::bench

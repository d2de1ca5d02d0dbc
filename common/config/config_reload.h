#pragma once

#include <string>
#include <vector>

#include "common/config/config.h"

namespace gk {

// The keys that differ between two configs but only take effect on a restart (bound
// endpoints, the Redis address, the HTTP listener and its threads, CURVE, the cache on/off
// switch). A reload applies everything else and names these in a warning.
std::vector<std::string> restart_only_changes(const Config& running, const Config& loaded);

// `running` with every reloadable setting taken from `loaded`; restart-only ones keep their
// running value, so what is reported as "needs a restart" really is not applied.
Config merge_reloadable(const Config& running, const Config& loaded);

}  // namespace gk

#pragma once

#include <nlohmann/json.hpp>

#include "common/config/config.h"

namespace gk {

// The effective config as JSON for the startup log line: every setting, with secrets (Redis
// password, API tokens, the CURVE secret key) replaced by "<redacted>" so logs never hold
// them.
nlohmann::json summarize_config(const Config& config);

}  // namespace gk

#pragma once

#include <nlohmann/json.hpp>

#include "common/config/config.h"

namespace gk {

// The effective config as JSON for the startup log line: every setting of the settings
// table by section, channels and topics as arrays, with secrets (the Redis URL's password,
// the CURVE secret key) replaced by "<redacted>" and lists of them (API tokens, link
// secrets) by their count, so logs never hold them.
nlohmann::json summarize_config(const Config& config);

}  // namespace gk

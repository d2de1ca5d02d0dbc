#pragma once

#include "common/config/config.h"

namespace gk {

// Sets up the default logger on stderr: text lines, or JSON lines (one object per line,
// the message escaped) for log shippers; level from the config.
void setup_logging(const LogConfig& log);

// Applies the level and the format to the running logger (SIGHUP reload).
void apply_log_settings(const LogConfig& log);

}  // namespace gk

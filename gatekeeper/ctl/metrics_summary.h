#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace gk::ctl {

// One line of the Prometheus text format: `name{label="value",...} value [timestamp]`.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// The samples of a /metrics page; comments, blank and unreadable lines are skipped.
std::vector<Sample> parse_prometheus_text(std::string_view text);

// What an operator looks at first, from those samples: message counts by outcome, reasons,
// cache hit ratio, Redis health. A family the page lacks is null, not 0, so a renamed metric
// shows up as missing instead of as a reassuring zero.
nlohmann::json summarize_metrics(const std::vector<Sample>& samples);

// The summary as a few aligned lines of text.
std::string format_summary(const nlohmann::json& summary);

}  // namespace gk::ctl

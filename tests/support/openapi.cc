#include "tests/support/openapi.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

namespace gk::test {

std::vector<OpenApiOperation> openapi_operations() {
  const YAML::Node doc = YAML::LoadFile(GK_SOURCE_DIR "/docs/openapi.yaml");
  std::vector<OpenApiOperation> out;
  for (const auto& path : doc["paths"]) {
    for (const auto& op : path.second) {
      std::string method = op.first.as<std::string>();
      if (method == "parameters" || method == "summary" || method == "description") continue;
      std::transform(method.begin(), method.end(), method.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      OpenApiOperation o{method, path.first.as<std::string>(), {}};
      for (const auto& response : op.second["responses"]) {
        const auto code = response.first.as<std::string>();
        if (code != "default") o.statuses.insert(std::stoi(code));
      }
      out.push_back(std::move(o));
    }
  }
  return out;
}

}  // namespace gk::test

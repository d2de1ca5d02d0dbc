#pragma once

#include <set>
#include <string>
#include <vector>

namespace gk::test {

// One operation of docs/openapi.yaml: "GET" and "/users/{externalId}/optout-status", with
// the status codes it documents.
struct OpenApiOperation {
  std::string method;
  std::string path;
  std::set<int> statuses;
};

// Every operation of the repository's docs/openapi.yaml (read with yaml-cpp).
std::vector<OpenApiOperation> openapi_operations();

}  // namespace gk::test
